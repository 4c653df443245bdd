//! `zfc-bench-report`: the tables of `BENCHMARKS.md` from the last `cargo bench -p zfc-bench`
//! (criterion's medians in `target/criterion`, byte and memory figures in
//! `target/zfc-bench/facts.tsv`), each zfc figure beside its reference and their ratio.
//! A figure that was not measured prints as `-`; nothing is filled in by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use zfc_bench::facts;

/// Criterion's median for one benchmark, in nanoseconds.
fn median_ns(group: &str, function: &str, param: Option<usize>) -> Option<f64> {
    let mut dir = facts::target_dir().join("criterion").join(group).join(function);
    if let Some(p) = param {
        dir = dir.join(p.to_string());
    }
    let text = std::fs::read_to_string(dir.join("new").join("estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}

fn time(ns: Option<f64>) -> String {
    match ns {
        None => "-".into(),
        Some(ns) if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        Some(ns) => format!("{:.1} µs", ns / 1e3),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

struct Report {
    out: String,
    facts: BTreeMap<String, (f64, String)>,
}

impl Report {
    fn fact(&self, key: &str) -> Option<f64> {
        self.facts.get(key).map(|(v, _)| *v)
    }
    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }
    fn row(&mut self, cells: &[String]) {
        let _ = writeln!(self.out, "| {} |", cells.join(" | "));
    }
    fn header(&mut self, cells: &[&str]) {
        let _ = writeln!(self.out, "| {} |", cells.join(" | "));
        let _ = writeln!(self.out, "|{}", "---|".repeat(cells.len()));
    }

    fn messages(&mut self) {
        for (group, title, floor_what) in [
            ("message_send", "Sending one message", "Ed25519 sign (ed25519-dalek 3) + XChaCha20-Poly1305 seal"),
            (
                "message_receive",
                "Receiving one message",
                "Ed25519 verify_strict (ed25519-dalek 3) + XChaCha20-Poly1305 open",
            ),
        ] {
            self.line(&format!(
                "\n### {title}\n\nFloor: {floor_what}. zfc without padding; padded: the default buckets.\n"
            ));
            self.header(&["content", "floor", "zfc", "zfc / floor", "Megolm", "zfc / Megolm", "zfc padded"]);
            for size in [64usize, 1024, 65536] {
                let floor = median_ns(group, "floor", Some(size));
                let zfc = median_ns(group, "zfc", Some(size));
                let megolm = median_ns(group, "megolm", Some(size));
                let padded = median_ns(group, "zfc_padded", Some(size));
                self.row(&[
                    format!("{size} B"),
                    time(floor),
                    time(zfc),
                    ratio(zfc, floor),
                    time(megolm),
                    ratio(zfc, megolm),
                    time(padded),
                ]);
            }
        }
    }

    fn bytes(&mut self) {
        self.line("\n### Bytes of one 256-byte message\n");
        self.header(&["field", "bytes"]);
        let fields: Vec<(String, f64)> = self
            .facts
            .iter()
            .filter_map(|(k, (v, _))| k.strip_prefix("zfc/message_256/field/").map(|f| (f.to_string(), *v)))
            .collect();
        for (f, v) in fields {
            self.row(&[f, num(Some(v))]);
        }
        let rows = [
            ("zfc frame, unpadded", "zfc/message_256/bytes"),
            ("zfc frame, default padding (512-byte bucket)", "zfc/message_256/padded_bytes"),
            ("zfc delivery (frame inside the relay's Deliver)", "zfc/message_256/deliver_bytes"),
            ("OpenMLS PrivateMessage (padding 0)", "openmls/app_message_256/bytes"),
            ("Megolm v1 message", "megolm/message_256/bytes"),
        ];
        self.line("");
        self.header(&["message", "bytes"]);
        for (name, key) in rows {
            let v = self.fact(key);
            self.row(&[name.to_string(), num(v)]);
        }
    }

    fn rotation(&mut self) {
        self.line("\n### Removal with key rotation\n");
        self.header(&[
            "members",
            "zfc owner",
            "OpenMLS remove",
            "OpenMLS self-update",
            "zfc / OpenMLS self-update",
            "zfc member",
            "OpenMLS member (remove)",
            "zfc / OpenMLS member",
            "zfc commit B",
            "OpenMLS commit B",
        ]);
        for n in [10usize, 100, 1000, 10_000] {
            let zo = median_ns("rotation_owner", "zfc_remove", Some(n));
            let mo = median_ns("rotation_owner", "openmls_remove", Some(n));
            let mu = median_ns("rotation_owner", "openmls_self_update", Some(n));
            let zm = median_ns("rotation_member", "zfc_remove", Some(n));
            let mm = median_ns("rotation_member", "openmls_remove", Some(n));
            let zb = self.fact(&format!("zfc/commit_remove/{n}/bytes"));
            let mb = self.fact(&format!("openmls/commit_remove/{n}/bytes"));
            self.row(&[
                n.to_string(),
                time(zo),
                time(mo),
                time(mu),
                ratio(zo, mu),
                time(zm),
                time(mm),
                ratio(zm, mm),
                num(zb),
                num(mb),
            ]);
        }
    }

    fn join(&mut self) {
        self.line("\n### Joining\n");
        self.header(&[
            "members",
            "zfc newcomer",
            "OpenMLS join from Welcome",
            "OpenMLS / zfc",
            "zfc whole handshake (owner + newcomer + relay)",
        ]);
        for n in [10usize, 100, 1000] {
            let z = median_ns("join_welcome", "zfc", Some(n));
            let m = median_ns("join_welcome", "openmls", Some(n));
            let h = median_ns("join_handshake", "zfc", Some(n));
            self.row(&[n.to_string(), time(z), time(m), ratio(m, z), time(h)]);
        }
    }

    fn history(&mut self) {
        self.line("\n### Decrypting a history of 10 000 messages\n");
        self.header(&["", "whole history", "per message", "Megolm / zfc"]);
        let z = median_ns("history_10k", "zfc", None);
        let m = median_ns("history_10k", "megolm", None);
        let per = |v: Option<f64>| v.map(|v| v / 10_000.0);
        self.row(&["zfc".into(), time(z), time(per(z)), ratio(m, z)]);
        self.row(&["Megolm".into(), time(m), time(per(m)), "1.00x".into()]);
        let epochs = self.fact("zfc/history/epochs");
        self.line(&format!("\nzfc's history spans {} epoch changes.", num(epochs)));
    }

    fn verification(&mut self) {
        self.line("\n### One Ed25519 signature check (ed25519-dalek 3, a 256-byte message's signed bytes)\n");
        self.header(&["", "per signature", "/ strict"]);
        let strict = median_ns("verification", "strict", None);
        let parse = median_ns("verification", "parse_key_and_strict", None);
        let batch = median_ns("verification", "batch", Some(64)).map(|v| v / 64.0);
        self.row(&["verify_strict, key parsed".into(), time(strict), "1.00x".into()]);
        self.row(&["parse the key, then verify_strict".into(), time(parse), ratio(parse, strict)]);
        self.row(&["verify_batch of 64".into(), time(batch), ratio(batch, strict)]);
    }

    fn relay(&mut self) {
        self.line("\n### The relay's rule book, one message to 100 members\n");
        self.header(&["", "time", "per delivery beyond the verification"]);
        let z = median_ns("relay_message_100", "zfc_rulebook", None);
        let f = median_ns("relay_message_100", "floor_verify", None);
        let per = z.zip(f).map(|(z, f)| (z - f) / 100.0);
        self.row(&["rule book (decode, checks, append, 100 deliveries)".into(), time(z), time(per)]);
        self.row(&["floor: one verify_strict".into(), time(f), "-".into()]);
        self.line(&format!("\nrule book / floor: {}", ratio(z, f)));
        self.line("\n### One delivery (428 bytes) sealed into a link record\n");
        self.header(&["", "time", "/ floor"]);
        let link = median_ns("link_record_428", "zfc_link_seal", None);
        let aead = median_ns("link_record_428", "floor_chacha20poly1305", None);
        self.row(&["zfc link record (Noise transport, ChaCha20-Poly1305)".into(), time(link), ratio(link, aead)]);
        self.row(&["floor: one ChaCha20-Poly1305 seal".into(), time(aead), "1.00x".into()]);
    }

    fn memory(&mut self) {
        self.line("\n### State per member\n");
        self.header(&[
            "members",
            "owner state B",
            "per member",
            "member state B",
            "per member",
            "process RSS growth per member (owner + relay + one member)",
        ]);
        for n in [10usize, 100, 1000, 10_000] {
            let o = self.fact(&format!("zfc/state/owner/{n}/bytes"));
            let m = self.fact(&format!("zfc/state/member/{n}/bytes"));
            let r = self.fact(&format!("zfc/room/{n}/rss_growth"));
            let per = |v: Option<f64>| v.map(|v| format!("{:.0} B", v / n as f64)).unwrap_or("-".into());
            self.row(&[n.to_string(), num(o), per(o), num(m), per(m), per(r)]);
        }
    }
}

fn main() {
    let facts = facts::load();
    if facts.is_empty() && !Path::new(&facts::target_dir().join("criterion")).exists() {
        eprintln!("zfc-bench-report: nothing measured yet; run `cargo bench -p zfc-bench` first");
        std::process::exit(1);
    }
    let mut r = Report { out: String::new(), facts };
    r.line("Medians of criterion's samples; ratios are zfc over the reference unless the header says otherwise.");
    r.messages();
    r.bytes();
    r.rotation();
    r.join();
    r.history();
    r.verification();
    r.relay();
    r.memory();
    print!("{}", r.out);
}
