//! Every file in `configs/` parses with the code that reads it, so examples cannot drift.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use alliance_node::Config;

fn configs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

#[test]
fn every_config_file_parses() {
    let mut checked = 0;
    for entry in std::fs::read_dir(configs_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        match path.file_name().and_then(|n| n.to_str()) {
            Some("province.toml" | "member.toml") => {
                let config =
                    Config::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                config
                    .check()
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                for addr in config
                    .network
                    .listen
                    .iter()
                    .chain(&config.network.bootstrap)
                {
                    addr.parse::<libp2p::Multiaddr>()
                        .unwrap_or_else(|e| panic!("{}: {addr}: {e}", path.display()));
                }
            }
            Some("categories.toml") => {
                alliance_node::catalogue::classification::Classification::parse(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            Some("evaluation.toml") => {
                alliance_node::evaluation::config::EvaluationConfig::parse(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            Some("synonyms.toml") => {
                alliance_node::catalogue::search::Synonyms::parse(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            _ => panic!("{} has no parse test: add it here", path.display()),
        }
        checked += 1;
    }
    assert!(checked >= 3, "the example configs are missing");
}
