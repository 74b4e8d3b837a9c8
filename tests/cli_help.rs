//! The command line speaks Chinese: every command's help (headings, flags, defaults,
//! examples) and the usage errors a clerk meets; English flags and values keep working.

use crate::support::yishi;

/// What clap prints in English when its words are not replaced.
const ENGLISH: [&str; 10] = [
    "Usage:",
    "Options:",
    "Arguments:",
    "Commands:",
    "Print help",
    "Print version",
    "[default:",
    "[env:",
    "[possible values",
    "[OPTIONS]",
];

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The subcommands listed under 命令 in a help text.
fn subcommands(help: &str) -> Vec<String> {
    let Some(start) = help.find("命令:\n") else { return Vec::new() };
    help[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn has_han(line: &str) -> bool {
    line.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_command_explains_itself_in_chinese_with_examples() {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        // -h: each flag and its help on one line (--help puts the help below the flag).
        args.push("-h");
        let out = yishi(&args);
        assert!(out.status.success(), "yishi {args:?}: {}", text(&out));
        let help = text(&out);
        for word in ENGLISH {
            assert!(!help.contains(word), "yishi {args:?} shows “{word}”:\n{help}");
        }
        assert!(help.contains("用法：yishi"), "yishi {args:?} has no 用法 line:\n{help}");
        let subs = subcommands(&help);
        if subs.is_empty() || !path.is_empty() {
            assert!(help.contains("示例："), "yishi {args:?} has no 示例:\n{help}");
        }
        // Every flag and argument line says in Chinese what it is for.
        for line in help.lines().filter(|l| l.trim_start().starts_with(['-', '<'])) {
            assert!(has_han(line), "yishi {args:?}: a flag without Chinese help: {line}");
        }
        for sub in subs {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
        seen += 1;
    }
    // yishi, its 12 commands, demo generate, user ×4, token ×3, export pack.
    assert!(seen >= 22, "walked only {seen} help texts");
}

#[test]
fn usage_errors_are_said_in_chinese_and_name_the_command() {
    let cases: [(&[&str], &str); 5] = [
        (&["report", "quarterly"], "缺少必需的参数：--year"),
        (&["report", "quarterly", "--year", "x"], "--year <年份> 的值“x”无效：不是有效的数字"),
        (&["report", "quarterly", "--year", "2025", "--format", "pdf"], "可选：table、csv、json、xlsx"),
        (&["reprot"], "没有“reprot”这个命令（是否为："),
        (&["report", "quarterly", "--year", "2025", "--county", "141026", "--community", "141026100001"], "不能与"),
    ];
    for (args, expected) in cases {
        let out = yishi(args);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "yishi {args:?}: {said}");
        assert!(said.starts_with("错误："), "yishi {args:?}: {said}");
        assert!(said.contains(expected), "yishi {args:?} should say “{expected}”: {said}");
        for word in ["error:", "Usage:", "For more information"] {
            assert!(!said.contains(word), "yishi {args:?} says “{word}”: {said}");
        }
    }
    let said = text(&yishi(&["report", "quarterly", "--year", "x"]));
    assert!(said.contains("查看说明：yishi report --help"), "{said}");
}

#[test]
fn english_tokens_still_work_and_version_prints() {
    let out = yishi(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("yishi "), "{}", text(&out));
    // `-h` is the short help and still lists the English subcommand names.
    let help = text(&yishi(&["-h"]));
    for name in ["ingest", "report", "export", "serve"] {
        assert!(subcommands(&help).iter().any(|s| s == name), "{name} missing from:\n{help}");
    }
}

/// `yishi demo` (the README's first command) prints its progress, the login and the
/// address in Chinese, with no English log lines in between, and then serves the pages.
#[test]
fn the_demo_speaks_chinese_and_serves() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(crate::support::yishi_bin())
        .current_dir(dir.path())
        .args(["demo", "--listen", &listen])
        .env_remove("YISHI_WAREHOUSE")
        .env_remove("YISHI_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start yishi demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read stdout");
        let started = line.contains("议事服务已启动");
        printed.push(line);
        if started {
            break;
        }
    }
    let page = http_get(&listen, "/login");
    let _ = child.kill();
    let output = child.wait_with_output().expect("demo ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let printed = printed.join("\n");
    assert!(printed.contains("议事服务已启动"), "the demo never started:\n{printed}\n{stderr}");
    assert!(printed.contains("演示账号（平台）：用户名 demo"), "{printed}");
    assert!(printed.contains(&format!("http://{listen}/login")), "{printed}");
    assert!(!stderr.contains(" INFO "), "English log lines on the demo's stderr:\n{stderr}");
    assert!(page.contains("200 OK") && page.contains("登录"), "{page}");
}

/// A plain HTTP/1.0 GET: the whole answer, head and body.
fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}
