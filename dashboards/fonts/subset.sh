#!/usr/bin/env bash
# Rebuilds NotoSansCJKsc-Regular-GBK.otf from Debian's fonts-noto-cjk package: the
# Simplified Chinese face of Noto Sans CJK Regular, cut to every character of GBK plus
# ASCII, Latin-1 and the punctuation and symbol blocks charts use. Needs apt-get (the
# package is downloaded, not installed, so the machine gains no system CJK font) and
# fonttools (pip install fonttools).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
(cd "$work" && apt-get download fonts-noto-cjk >/dev/null && dpkg-deb -x fonts-noto-cjk_*.deb x)
python3 - "$work/chars.txt" <<'PY'
import sys
chars = set()
for b1 in range(0x81, 0xFF):
    for b2 in range(0x40, 0xFF):
        if b2 == 0x7F:
            continue
        try:
            chars.add(bytes([b1, b2]).decode("gbk"))
        except UnicodeDecodeError:
            pass
for lo, hi in [(0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x2100, 0x2300), (0x2460, 0x24FF),
               (0x2500, 0x2600), (0x3000, 0x3040), (0xFF00, 0xFFF0)]:
    chars.update(chr(c) for c in range(lo, hi))
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(chars)))
PY
# Face 2 of the collection is "Noto Sans CJK SC".
pyftsubset "$work/x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc" --font-number=2 \
  --text-file="$work/chars.txt" --output-file=NotoSansCJKsc-Regular-GBK.otf \
  --layout-features='' --no-hinting --name-IDs='*' --notdef-outline
rm -rf "$work"
ls -l NotoSansCJKsc-Regular-GBK.otf
