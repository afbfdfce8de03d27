//! `oss-emulator` command line.

use std::io::Write;
use std::path::PathBuf;

use oss_emulator::shaping::parse_rate;
use oss_emulator::{Credential, Emulator, EmulatorConfig, FaultRule, Faults, Shaping};

const HELP: &str = "\
oss-emulator: a strict local OSS-compatible server (signature-verifying, fault-injecting)

USAGE:
  oss-emulator --root DIR [OPTIONS]

OPTIONS:
  --root DIR                 Directory with one sub-directory per bucket (created if missing)
  --host ADDR                Address to bind [default: 127.0.0.1]
  --also-host ADDR           Also listen on ADDR, same port (repeatable: a host with several
                             addresses; the request log's local_addr tells which one)
  --port N                   Port, 0 = ephemeral [default: 0]
  --access-key-id AK         Accepted access key (repeatable; pairs with the next
  --access-key-secret SK       --access-key-secret and optional --security-token)
  --security-token TOKEN     Require this STS token with the preceding access key
  --public-read BUCKET       Allow anonymous GET/HEAD on BUCKET (repeatable)
  --tls                      Serve HTTPS with a generated CA + certificate for
                             127.0.0.1, ::1, localhost, *.localhost
  --tls-cert-out FILE        Where to write the CA certificate (PEM)
                             [default: ROOT/.oss-emulator-meta/ca.pem]
  --path-style               Treat every Host as path style (/BUCKET/KEY)
  --fault SPEC               Fault rule (repeatable): 'kind=status,status=503,count=2,method=GET'
                             or a JSON object '{\"kind\":\"cut\",\"bytes\":1000}'. See README.
  --seed N                   Seed for random faults and shaping jitter [default: 0]
  --latency MS               Network shaping: wait MS before every answer (time to first byte)
  --connect-latency MS       ... and MS more before the first answer on each new connection
  --jitter MS                ... plus a seeded random 0..=MS on every request
  --conn-rate RATE           Cap each connection's GET bodies at RATE bytes/s
                             (suffix K/M/G = KiB/MiB/GiB, KB/MB/GB = 10^3/10^6/10^9; '/s' allowed)
  --total-rate RATE          Cap all GET bodies of the server together at RATE bytes/s
                             (shared between the connections)
  --shaping JSON             All shaping as one JSON object (see README); replaces what earlier
                             shaping flags set, later ones change single fields
  --log FILE                 Append one JSON line per request to FILE
  --admin                    Enable /__admin/faults, /__admin/shaping and /__admin/log
                             (loopback clients only)
  --create-object B/KEY:SIZE Before serving, create object KEY in bucket B with SIZE bytes of
                             deterministic pseudo-random content (SIZE accepts K, M, G suffixes;
                             repeatable; skipped when an object of that size already exists)
  --create-bucket BUCKET     Create a bucket directory (repeatable)
  -h, --help                 This help

Without any access key every anonymous request is allowed (open mode).
On start it prints one line: 'listening on http://127.0.0.1:PORT' (or https://...).
";

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('K') | Some('k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') | Some('m') => (&s[..s.len() - 1], 1 << 20),
        Some('G') | Some('g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .map(|n| n * mult)
        .map_err(|_| format!("bad size {s:?}"))
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut cfg = EmulatorConfig::default();
    let mut root: Option<PathBuf> = None;
    let mut creates: Vec<(String, String, u64)> = Vec::new();
    let mut buckets: Vec<String> = Vec::new();
    let mut pending_ak: Option<String> = None;
    let mut rules = Vec::new();
    let mut shaping = Shaping::default();
    let ms = |name: &str, v: String| -> Result<u64, String> {
        v.trim()
            .parse::<u64>()
            .map_err(|_| format!("bad {name} {v:?} (milliseconds)"))
    };
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            "--root" => root = Some(PathBuf::from(val("--root")?)),
            "--host" => cfg.host = val("--host")?,
            "--also-host" => cfg.also_hosts.push(val("--also-host")?),
            "--port" => {
                cfg.port = val("--port")?
                    .parse()
                    .map_err(|_| "bad --port".to_string())?
            }
            "--access-key-id" => {
                if pending_ak.is_some() {
                    return Err("--access-key-id without --access-key-secret".into());
                }
                pending_ak = Some(val("--access-key-id")?);
            }
            "--access-key-secret" => {
                let ak = pending_ak
                    .take()
                    .ok_or("--access-key-secret must follow --access-key-id")?;
                cfg.credentials
                    .push(Credential::new(&ak, &val("--access-key-secret")?));
            }
            "--security-token" => {
                let t = val("--security-token")?;
                let c = cfg
                    .credentials
                    .last_mut()
                    .ok_or("--security-token must follow --access-key-id/--access-key-secret")?;
                c.security_token = Some(t);
            }
            "--public-read" => cfg.public_read.push(val("--public-read")?),
            "--tls" => cfg.tls = true,
            "--tls-cert-out" => cfg.tls_cert_out = Some(PathBuf::from(val("--tls-cert-out")?)),
            "--path-style" => cfg.path_style = true,
            "--fault" => rules.push(FaultRule::parse_spec(&val("--fault")?)?),
            "--seed" => {
                cfg.seed = val("--seed")?
                    .parse()
                    .map_err(|_| "bad --seed".to_string())?
            }
            "--latency" => shaping.latency_ms = ms("--latency", val("--latency")?)?,
            "--connect-latency" => {
                shaping.connect_latency_ms = ms("--connect-latency", val("--connect-latency")?)?
            }
            "--jitter" => shaping.jitter_ms = ms("--jitter", val("--jitter")?)?,
            "--conn-rate" => shaping.conn_bytes_per_sec = Some(parse_rate(&val("--conn-rate")?)?),
            "--total-rate" => {
                shaping.total_bytes_per_sec = Some(parse_rate(&val("--total-rate")?)?)
            }
            "--shaping" => {
                let v = val("--shaping")?;
                shaping = serde_json::from_str(&v)
                    .map_err(|e| format!("bad --shaping JSON {v:?}: {e}"))?;
            }
            "--log" => cfg.log_file = Some(PathBuf::from(val("--log")?)),
            "--admin" => cfg.admin = true,
            "--create-bucket" => buckets.push(val("--create-bucket")?),
            "--create-object" => {
                let v = val("--create-object")?;
                let (path, size) = v
                    .rsplit_once(':')
                    .ok_or_else(|| format!("--create-object wants BUCKET/KEY:SIZE, got {v:?}"))?;
                let (b, k) = path
                    .split_once('/')
                    .ok_or_else(|| format!("--create-object wants BUCKET/KEY:SIZE, got {v:?}"))?;
                creates.push((b.to_string(), k.to_string(), parse_size(size)?));
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if pending_ak.is_some() {
        return Err("--access-key-id without --access-key-secret".into());
    }
    cfg.root = root.ok_or("--root DIR is required (see --help)")?;
    cfg.faults = Faults { rules, seed: None };
    shaping.validate()?;
    cfg.shaping = shaping;
    let emu = Emulator::start(cfg).map_err(|e| format!("cannot start: {e}"))?;
    for b in buckets {
        emu.create_bucket(&b)
            .map_err(|e| format!("--create-bucket {b}: {e}"))?;
    }
    for (b, k, size) in creates {
        let path = emu.object_path(&b, &k);
        let exists = std::fs::metadata(&path)
            .map(|m| m.len() == size)
            .unwrap_or(false);
        if !exists {
            emu.create_object(&b, &k, size)
                .map_err(|e| format!("--create-object {b}/{k}: {e}"))?;
        } else {
            // Warm the metadata cache (computed once if the sidecar is missing).
            let _ = emu.object_meta(&b, &k);
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", emu.endpoint());
    if let Some(ca) = emu.ca_pem_path() {
        let _ = writeln!(out, "ca certificate {}", ca.display());
    }
    let _ = out.flush();
    // Serve until killed.
    loop {
        std::thread::park();
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("oss-emulator: {e}");
        std::process::exit(2);
    }
}
