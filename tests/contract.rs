//! The API keeps its own contract: Schemathesis (an OpenAPI fuzzer no one here wrote)
//! generates requests from `/api/v1/openapi.json` and checks every answer against the
//! document — its coverage, fuzzing and stateful phases, all checks, a bounded number of
//! examples and a fixed seed — at county and at community scope, against the real
//! `yishi serve` binary. CI installs it (`.ci/run`); without it the test says SKIPPED, or
//! fails when `YISHI_REQUIRE_SCHEMATHESIS` is set.

use std::path::PathBuf;
use std::process::Command;

use crate::hardening::Server;

/// The fixed seed of every run, so a failure can be replayed.
const SEED: &str = "20261206";

fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("YISHI_SCHEMATHESIS").map(PathBuf::from).filter(|p| p.exists()) {
        return Some(path);
    }
    let venv = PathBuf::from("/opt/yishi-schemathesis/bin/schemathesis");
    if venv.exists() {
        return Some(venv);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("schemathesis"))
        .find(|p| p.exists())
}

fn run_schemathesis(bin: &PathBuf, server: &Server, token: &str, scope: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contract/schemathesis.toml");
    let output = Command::new(bin)
        .current_dir(dir.path())
        .args(["--config-file", config.to_str().expect("utf-8")])
        .args(["run", &format!("{}/api/v1/openapi.json", server.base)])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--phases", "coverage,fuzzing,stateful"])
        .args(["--max-examples", "25", "--seed", SEED, "--request-timeout", "60"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let tail: Vec<&str> = text.lines().rev().take(150).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(output.status.success(), "schemathesis at {scope} scope failed:\n{}", tail.join("\n"));
    assert!(!text.contains("Failures:") && !text.contains("Errors:"), "{}", tail.join("\n"));
}

#[test]
fn schemathesis_finds_no_failure_at_county_and_community_scope() {
    let Some(bin) = schemathesis() else {
        assert!(
            std::env::var_os("YISHI_REQUIRE_SCHEMATHESIS").is_none(),
            "YISHI_REQUIRE_SCHEMATHESIS is set but schemathesis is not installed"
        );
        println!(
            "SKIPPED schemathesis_finds_no_failure_at_county_and_community_scope: schemathesis is not installed (pip install schemathesis)"
        );
        return;
    };
    let server = Server::start(&[]);
    run_schemathesis(&bin, &server, &server.county.clone(), "county");
    run_schemathesis(&bin, &server, &server.community.clone(), "community");
}
