//! `zfc`: a command-line chat client for people and scripts. State lives in a directory, sealed
//! with a passphrase (prompted, or `ZFC_PASSPHRASE` for scripts).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use zeroize::Zeroizing;
use zfc_core::pickle::Argon2Params;
use zfc_core::relay::ClientRequest;
use zfc_core::{Event, Failure, HistoryPolicy, Invite, Member, Operation, Owner, RoomConfig};
use zfc_relay::client::session::now;
use zfc_relay::client::{Party, Session};
use zfc_relay::{fsutil, keyfile};

/// A zfc chat client.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory holding this identity's sealed state.
    #[arg(long, default_value = "zfc-state")]
    dir: PathBuf,
    /// Reach the relay through a SOCKS5 proxy (e.g. Tor: socks5://127.0.0.1:9050).
    #[arg(long)]
    proxy: Option<String>,
    /// Seconds to wait for the relay.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Argon2id memory (KiB) for sealing the state.
    #[arg(long, default_value_t = Argon2Params::DEFAULT.m_cost_kib)]
    kdf_memory_kib: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a room at a relay; this directory becomes its owner.
    Create {
        /// The relay, ws://HOST:PORT.
        #[arg(long, default_value = "ws://127.0.0.1:5103")]
        relay: String,
        /// The relay's key (64 hex digits, as zfc-relay prints it).
        #[arg(long)]
        relay_key: String,
        /// Newcomers read only what is sent after they join (default: since the last rotation).
        #[arg(long)]
        strict: bool,
        /// Approve join requests without asking (while the owner runs `listen`).
        #[arg(long)]
        auto_approve: bool,
        /// An operator-issued admission token, for relays that restrict room creation.
        #[arg(long, env = "ZFC_ADMISSION_TOKEN")]
        admission_token: Option<String>,
    },
    /// Print a single-use invite.
    Invite {
        /// Seconds the invite stays valid.
        #[arg(long, default_value_t = 86_400)]
        ttl: u64,
    },
    /// Join a room with an invite; waits until the owner adds us.
    Join {
        /// The invite (zfc:join?...).
        invite: String,
        /// The name shown to the owner.
        #[arg(long)]
        name: String,
    },
    /// (Owner) Approve a pending join request (the joiner's key in hex, as `listen` prints it).
    Approve {
        /// The joiner's key.
        joiner: String,
    },
    /// Send a message.
    Send {
        /// The text.
        text: Vec<String>,
    },
    /// Print messages as they arrive.
    Listen {
        /// Stop after this many messages.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// List the members with their fingerprints.
    Members,
    /// (Owner) Remove a member by number.
    Remove {
        /// The member number.
        member: u32,
    },
    /// (Owner) Rotate the room key now.
    Rotate,
    /// Fetch and print the history the relay holds for us.
    History {
        /// Most entries.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("zfc: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zfc: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Pings a listening connection this often: well inside the relay's idle timeout.
const KEEPALIVE: Duration = Duration::from_secs(60);

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Ctx {
    dir: PathBuf,
    proxy: Option<String>,
    wait: Duration,
    params: Argon2Params,
    passphrase: Zeroizing<String>,
}

fn passphrase() -> Res<Zeroizing<String>> {
    if let Ok(p) = std::env::var("ZFC_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    Ok(Zeroizing::new(rpassword::prompt_password("passphrase: ")?))
}

fn parse_key(hex_key: &str) -> Res<[u8; 32]> {
    keyfile::parse_hex32(hex_key).ok_or_else(|| "a key is 64 hex digits".into())
}

impl Ctx {
    fn relay(&self) -> Res<(String, [u8; 32])> {
        let text = std::fs::read_to_string(self.dir.join("relay"))
            .map_err(|e| format!("{}: {e} (create or join a room first)", self.dir.display()))?;
        let mut lines = text.lines();
        let url = lines.next().ok_or("relay file is empty")?.to_string();
        let key = parse_key(lines.next().ok_or("relay file has no key")?)?;
        Ok((url, key))
    }

    fn save_relay(&self, url: &str, key: &[u8; 32]) -> Res<()> {
        write_private(&self.dir, "relay", format!("{url}\n{}\n", hex::encode(key)).as_bytes())
    }

    fn load(&self) -> Res<Party> {
        let blob = std::fs::read(self.dir.join("state.sealed"))
            .map_err(|e| format!("{}: {e} (create or join a room first)", self.dir.display()))?;
        let pw = self.passphrase.as_bytes();
        match blob.first() {
            Some(b'O') => Ok(Party::Owner(Box::new(Owner::open_state(blob.get(1..).unwrap_or_default(), pw)?))),
            Some(b'M') => Ok(Party::Member(Box::new(Member::open_state(blob.get(1..).unwrap_or_default(), pw)?))),
            _ => Err("state.sealed is damaged".into()),
        }
    }

    fn save(&self, party: &Party) -> Res<()> {
        save_state(&self.dir, &self.passphrase, self.params, party)
    }

    /// What the session calls before every send that spends state.
    fn saver(&self) -> zfc_relay::client::session::Saver {
        let (dir, passphrase, params) = (self.dir.clone(), self.passphrase.clone(), self.params);
        Box::new(move |party| save_state(&dir, &passphrase, params, party).map_err(|e| e.to_string()))
    }

    async fn connect(&self, party: Party) -> Res<Session> {
        let (url, key) = self.relay()?;
        let mut s = Session::connect(party, &url, &key, self.proxy.as_deref(), self.wait).await?;
        s.set_saver(self.saver());
        Ok(s)
    }
}

fn save_state(dir: &Path, passphrase: &str, params: Argon2Params, party: &Party) -> Res<()> {
    let mut rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
    let pw = passphrase.as_bytes();
    let blob = Zeroizing::new(match party {
        Party::Owner(o) => [b"O".to_vec(), o.seal_state(pw, params, &mut rng)?].concat(),
        Party::Member(m) => [b"M".to_vec(), m.seal_state(pw, params, &mut rng)?].concat(),
    });
    write_private(dir, "state.sealed", &blob)
}

/// Writes `name` in the state directory, which is kept readable by its owner only (the sealed
/// state is a password-guessing target). The temporary file is named after this process, so two
/// processes never write one temporary file.
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Res<()> {
    fsutil::private_dir(dir)?;
    let path = dir.join(name);
    fsutil::write_atomic(&path, &path.with_extension(format!("tmp.{}", std::process::id())), bytes)?;
    Ok(())
}

fn print_events(s: &mut Session, printed: &mut usize) {
    for e in s.take_events() {
        match e {
            Event::Message(m) => {
                *printed += 1;
                println!("{}: {}", m.sender, String::from_utf8_lossy(&m.content));
            }
            Event::JoinRequested { joiner, name, fingerprint } => {
                println!("join request from {name:?} key {} fingerprint {fingerprint}", hex::encode(joiner));
            }
            Event::Joined { member, epoch } => println!("joined as member {member} in epoch {epoch}"),
            Event::EpochChanged { epoch, reason } => println!("epoch {epoch} ({reason:?})"),
            Event::MemberLeft(m) => println!("member {m} left"),
            Event::RemovedFromRoom => println!("we were removed from the room"),
            Event::RoomDeleted => println!("the room was deleted"),
            Event::Rejected { reason, .. } => eprintln!("the relay refused a request: {reason}"),
            Event::FrameRejected { position, error } => eprintln!("dropped frame at {position}: {error}"),
            _ => {}
        }
    }
}

async fn run(args: Args) -> Res<()> {
    let params = Argon2Params { m_cost_kib: args.kdf_memory_kib, ..Argon2Params::DEFAULT };
    let ctx = Ctx {
        dir: args.dir,
        proxy: args.proxy,
        wait: Duration::from_secs(args.timeout),
        params,
        passphrase: passphrase()?,
    };
    let mut printed = 0usize;
    match args.command {
        Command::Create { relay, relay_key, strict, auto_approve, admission_token } => {
            if ctx.dir.join("state.sealed").exists() {
                return Err(format!("{} already holds a state", ctx.dir.display()).into());
            }
            let key = parse_key(&relay_key)?;
            let policy = if strict { HistoryPolicy::SinceJoin } else { HistoryPolicy::SinceLastEpoch };
            let config = RoomConfig::builder().history_policy(policy).auto_approve(auto_approve).build()?;
            let mut rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
            let (owner, out) = Owner::create(config, &mut rng);
            ctx.save_relay(&relay, &key)?;
            let mut s =
                Session::connect(Party::Owner(Box::new(owner)), &relay, &key, ctx.proxy.as_deref(), ctx.wait).await?;
            // The room does not exist yet: the first authentication is refused, and retried by
            // the owner once the creation is accepted.
            s.take_events();
            s.set_saver(ctx.saver());
            if let Some(token) = admission_token {
                let token = parse_key(&token)?;
                s.own_request(|req_id| ClientRequest::Admit { req_id, token }, ctx.wait).await?;
            }
            s.apply(out).await?;
            s.settle(ctx.wait).await?;
            refused(&mut s)?;
            let party = s.close().await;
            ctx.save(&party)?;
            if let Party::Owner(o) = &party {
                println!("room {}", hex::encode(o.room_id()));
            }
        }
        Command::Invite { ttl } => {
            let (url, key) = ctx.relay()?;
            let mut s = ctx.connect(ctx.load()?).await?;
            let mut uri = String::new();
            s.with_owner(|o, rng| {
                let (inv, out) = o.invite(now(), ttl, &url, key.into(), rng)?;
                uri = inv.to_uri();
                Ok(out)
            })
            .await?;
            s.settle(ctx.wait).await?;
            refused(&mut s)?;
            ctx.save(&s.close().await)?;
            println!("{uri}");
        }
        Command::Join { invite, name } => {
            if ctx.dir.join("state.sealed").exists() {
                return Err(format!("{} already holds a state", ctx.dir.display()).into());
            }
            let invite = Invite::parse(invite.trim())?;
            let mut rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
            let (member, out) = Member::join(&invite, &name, now(), &mut rng)?;
            ctx.save_relay(&invite.relay_addr, invite.relay_pk.as_bytes())?;
            ctx.save(&Party::Member(Box::new(member)))?;
            // The saved state holds the join request in flight: the member sends it itself with
            // its answer to the relay's challenge (and authenticates again once it is accepted),
            // so `out` is not sent a second time.
            drop(out);
            let mut s = ctx.connect(ctx.load()?).await?;
            s.settle(ctx.wait).await?;
            refused(&mut s)?;
            ctx.save(&s.party)?;
            s.wait_for(ctx.wait, |e| matches!(e, Event::Joined { .. })).await?;
            print_events(&mut s, &mut printed);
            s.ack().await?;
            ctx.save(&s.close().await)?;
        }
        Command::Approve { joiner } => {
            let joiner = parse_key(&joiner)?;
            let mut s = ctx.connect(ctx.load()?).await?;
            s.with_owner(|o, rng| o.approve_join(joiner.into(), rng)).await?;
            s.settle(ctx.wait).await?;
            // The joiner's confirmation and the owner's commit follow while we wait.
            let _ = s.wait_for(ctx.wait, |e| matches!(e, Event::EpochChanged { .. })).await;
            s.settle(ctx.wait).await?;
            print_events(&mut s, &mut printed);
            ctx.save(&s.close().await)?;
        }
        Command::Send { text } => {
            let text = text.join(" ");
            let mut s = ctx.connect(ctx.load()?).await?;
            let content = text.into_bytes();
            match &s.party {
                Party::Owner(_) => s.with_owner(|o, rng| o.send(&content, rng)).await?,
                Party::Member(_) => s.with_member(|m, rng| m.send(&content, rng)).await?,
            }
            // (The session saved the state, sequence number spent, before sending.)
            s.settle(ctx.wait).await?;
            refused(&mut s)?;
            s.ack().await?;
            ctx.save(&s.close().await)?;
        }
        Command::Listen { count, seconds } => {
            let mut s = ctx.connect(ctx.load()?).await?;
            let until = seconds.map(|x| tokio::time::Instant::now() + Duration::from_secs(x));
            let mut last_ping = tokio::time::Instant::now();
            let mut last_save: Option<tokio::time::Instant> = None;
            loop {
                if last_ping.elapsed() >= KEEPALIVE {
                    s.keepalive().await?;
                    last_ping = tokio::time::Instant::now();
                }
                print_events(&mut s, &mut printed);
                if count.is_some_and(|c| printed >= c) || until.is_some_and(|u| tokio::time::Instant::now() >= u) {
                    break;
                }
                let step = until.map_or(Duration::from_secs(1), |u| {
                    u.saturating_duration_since(tokio::time::Instant::now()).min(Duration::from_secs(1))
                });
                if s.pump(step).await? && last_save.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    // What was read is saved before the relay is told it was read.
                    ctx.save(&s.party)?;
                    s.ack().await?;
                    last_save = Some(tokio::time::Instant::now());
                }
            }
            ctx.save(&s.close().await)?;
        }
        Command::Members => {
            let party = ctx.load()?;
            let (roster, room, fp): (_, _, Box<dyn Fn(u32) -> String>) = match &party {
                Party::Owner(o) => {
                    (o.roster().clone(), o.room_id(), Box::new(|m| o.fingerprint(m).unwrap_or_default()))
                }
                Party::Member(m) => (
                    m.roster().cloned().map_err(|e| format!("not a member: {e}"))?,
                    m.room_id(),
                    Box::new(|n| m.fingerprint(n).unwrap_or_default()),
                ),
            };
            println!("room {}", hex::encode(room));
            for (no, _) in roster.iter() {
                println!("{no} {}", fp(no));
            }
        }
        Command::Remove { member } => {
            let mut s = ctx.connect(ctx.load()?).await?;
            s.with_owner(|o, rng| o.remove(member, rng)).await?;
            settled(&ctx, &mut s, Operation::Remove { member }).await?;
            ctx.save(&s.close().await)?;
            println!("member {member} removed");
        }
        Command::Rotate => {
            let mut s = ctx.connect(ctx.load()?).await?;
            s.with_owner(|o, rng| o.rotate(rng)).await?;
            settled(&ctx, &mut s, Operation::Rotate).await?;
            ctx.save(&s.close().await)?;
        }
        Command::History { limit } => {
            let mut s = ctx.connect(ctx.load()?).await?;
            if let Party::Member(_) = &s.party {
                s.with_member(|m, _| m.fetch_history(limit)).await?;
            }
            s.settle(ctx.wait).await?;
            print_events(&mut s, &mut printed);
            ctx.save(&s.close().await)?;
        }
    }
    Ok(())
}

/// Waits until the state machine reports `op` landed (or failed), printing what else happens;
/// a resend of an earlier operation left over from a lost connection lands first.
async fn settled(ctx: &Ctx, s: &mut Session, op: Operation) -> Res<()> {
    let done = |e: &Event| match e {
        Event::OperationLanded { op: o } | Event::OperationFailed { op: o, .. } => *o == op,
        _ => false,
    };
    s.settle(ctx.wait).await?;
    s.wait_for(ctx.wait, done).await?;
    refused(s)
}

/// Turns a refusal seen among the events into an error (after printing the rest): an operation
/// that can never land, or a refused room message. Other refusals answer requests the state
/// machine settles itself (a resend the relay already had, say).
fn refused(s: &mut Session) -> Res<()> {
    let events = s.take_events();
    let reason = |code: u16| zfc_core::relay::Reject::from_code(code).map_or(code.to_string(), |r| r.to_string());
    let failure = events.iter().find_map(|e| match e {
        Event::Rejected { req_id, reason: why } if s.is_message(*req_id) => Some(why.to_string()),
        Event::OperationFailed { op, reason: Failure::Refused(code) } => Some(format!("{op:?}: {}", reason(*code))),
        Event::OperationFailed { op, reason: Failure::Invalid(e) } => Some(format!("{op:?}: {e}")),
        _ => None,
    });
    for e in events {
        if let Event::Message(m) = &e {
            println!("{}: {}", m.sender, String::from_utf8_lossy(&m.content));
        }
    }
    match failure {
        Some(f) => Err(format!("the relay refused the request: {f}").into()),
        None => Ok(()),
    }
}
