//! `zfc`: a command-line chat client for people and scripts, on the `zfc-client` facade. Its
//! state (the room and its keys) lives in a directory, sealed with a passphrase (prompted, or
//! `ZFC_PASSPHRASE` for scripts), written before anything that needs it reaches the relay.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use zeroize::Zeroizing;
use zfc_client::content::Content;
use zfc_client::{Client, ClientConfig, ClientEvent, EpochChange, RelayAddress, RoomOperation, RoomRole, RoomSettings};
use zfc_core::HistoryPolicy;
use zfc_core::pickle::Argon2Params;
use zfc_core::proto::Reject;
use zfc_relay::client::Driver;
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
    /// TESTS ONLY: accept Argon2id parameters below the production floor (a guessable state).
    #[arg(long, hide = true)]
    insecure_weak_kdf_for_tests: bool,
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

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The sealed state's file in the directory.
const STATE: &str = "client.sealed";

struct Ctx {
    dir: PathBuf,
    proxy: Option<String>,
    wait: Duration,
    config: ClientConfig,
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
    fn state_path(&self) -> PathBuf {
        self.dir.join(STATE)
    }

    /// A new client for a directory that holds none.
    fn create(&self) -> Res<Driver> {
        if self.state_path().exists() || self.dir.join("state.sealed").exists() {
            return Err(format!("{} already holds a state", self.dir.display()).into());
        }
        let client = Client::create(self.config.clone(), self.passphrase.as_bytes())?;
        Ok(Driver::new(client, self.writer(), self.proxy.clone()))
    }

    /// A directory written by an older `zfc` (`state.sealed`, a one-letter kind and a single-room
    /// sealed state, beside `relay`: its address and key) becomes a client state; the old file
    /// is kept as `state.sealed.imported`.
    fn import_old(&self) -> Res<()> {
        let old = self.dir.join("state.sealed");
        if self.state_path().exists() || !old.exists() {
            return Ok(());
        }
        let relay = std::fs::read_to_string(self.dir.join("relay"))?;
        let mut lines = relay.lines();
        let url = lines.next().ok_or("relay file is empty")?;
        let relay = RelayAddress::new(url, &parse_key(lines.next().ok_or("relay file has no key")?)?)?;
        let blob = std::fs::read(&old)?;
        let client = Client::create(self.config.clone(), self.passphrase.as_bytes())?;
        client.import_room(blob.get(1..).unwrap_or_default(), self.passphrase.as_bytes(), &relay)?;
        let save = client.poll_save()?.ok_or("the imported state was not sealed")?;
        write_private(&self.dir, STATE, &save.bytes)?;
        client.close();
        std::fs::rename(&old, old.with_extension("sealed.imported"))?;
        eprintln!("imported the room of {} (kept as state.sealed.imported)", old.display());
        Ok(())
    }

    /// The directory's client, and the room it holds.
    fn open(&self) -> Res<(Driver, Vec<u8>)> {
        self.import_old()?;
        let blob = std::fs::read(self.state_path())
            .map_err(|e| format!("{}: {e} (create or join a room first)", self.dir.display()))?;
        let client = Client::open(self.config.clone(), &blob, self.passphrase.as_bytes())?;
        let room = client.rooms()?.into_iter().next().ok_or("this directory holds no room")?;
        Ok((Driver::new(client, self.writer(), self.proxy.clone()), room))
    }

    /// Writes each save atomically, readable by its owner only.
    fn writer(&self) -> zfc_relay::client::driver::StateWriter {
        let dir = self.dir.clone();
        Box::new(move |bytes| write_private(&dir, STATE, bytes).map_err(|e| e.to_string()))
    }
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

/// Text a peer controls, made safe for a terminal: control characters (escape sequences,
/// newlines that would start a line without its sender) are shown escaped.
fn shown(text: &str) -> String {
    // Also the format characters that reorder or hide text (bidirectional overrides and
    // isolates, marks) and the line and paragraph separators.
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    text.chars().map(|c| if hidden(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// A relay refusal's name from a shared code (1000 + the relay's code).
fn refusal(code: u32) -> String {
    let relay = code.checked_sub(zfc_core::code::RELAY_BASE).and_then(|c| u16::try_from(c).ok());
    match relay.and_then(Reject::from_code) {
        Some(r) => r.to_string(),
        None => zfc_core::code::code_name(code).map_or_else(|| format!("code {code}"), str::to_owned),
    }
}

fn print_event(e: &ClientEvent, printed: &mut usize) {
    match e {
        ClientEvent::Message { message: m, .. } => {
            let text = match &m.content {
                Content::Text { body } => shown(body),
                Content::DisplayName { name } => format!("(is now called {})", shown(name)),
                Content::Topic { topic } => format!("(set the topic: {})", shown(topic)),
                _ => "(a message this client does not show)".to_owned(),
            };
            *printed += 1;
            println!("{}: {text}", m.sender);
        }
        ClientEvent::JoinRequested { joiner, name, fingerprint, .. } => {
            println!("join request from {:?} key {} fingerprint {fingerprint}", shown(name), hex::encode(joiner));
        }
        ClientEvent::Joined { member, epoch, .. } => println!("joined as member {member} in epoch {epoch}"),
        ClientEvent::EpochChanged { epoch, change, .. } => match change {
            EpochChange::Rotation => println!("epoch {epoch}: the room key was rotated"),
            EpochChange::MemberAdded { member } => println!("epoch {epoch}: member {member} joined"),
            EpochChange::MemberRemoved { member } => println!("epoch {epoch}: member {member} left or was removed"),
        },
        ClientEvent::MemberLeft { member, .. } => println!("member {member} left"),
        ClientEvent::RemovedFromRoom { .. } => println!("we were removed from the room"),
        ClientEvent::RoomDeleted { .. } => println!("the room was deleted"),
        ClientEvent::MessageRefused { code, .. } => eprintln!("the relay refused a message: {}", refusal(*code)),
        ClientEvent::FrameRejected { position, detail, .. } => eprintln!("dropped the entry at {position}: {detail}"),
        ClientEvent::Disconnected { reason, retry_in_ms, .. } => {
            eprintln!("disconnected ({reason}); retrying in {} s", retry_in_ms.div_ceil(1000));
        }
        _ => {}
    }
}

/// Runs the loop until `done` holds for an event, printing what happens. Fails on a refusal
/// that ends the command: an operation that can never land, a refused message, a refused
/// admission token, a connection that never came up; or when `wait` passes.
async fn until(
    d: &mut Driver,
    wait: Duration,
    printed: &mut usize,
    what: &str,
    done: impl Fn(&ClientEvent) -> bool,
    failed: impl Fn(&ClientEvent) -> bool,
) -> Res<()> {
    let mut connected = false;
    let (events, hit) = d
        .run(wait, |e| {
            done(e) || failed(e) || (!connected && matches!(e, ClientEvent::Disconnected { .. })) || {
                connected |= matches!(e, ClientEvent::Connected { .. });
                false
            }
        })
        .await?;
    for e in &events {
        print_event(e, printed);
    }
    match events.last().filter(|_| hit) {
        Some(e) if done(e) => Ok(()),
        Some(ClientEvent::OperationFailed { op, code, .. }) => {
            Err(format!("the relay refused the request: {op:?}: {}", refusal(*code)).into())
        }
        Some(ClientEvent::MessageRefused { code, .. }) => {
            Err(format!("the relay refused the message: {}", refusal(*code)).into())
        }
        Some(ClientEvent::AdmissionRefused { code, .. }) => Err(format!(
            "the relay refused the admission token (code {})",
            code.saturating_sub(zfc_core::code::RELAY_BASE)
        )
        .into()),
        Some(ClientEvent::Disconnected { .. }) => {
            let why = shown(d.last_failure().unwrap_or("the connection failed"));
            Err(format!("could not reach the relay: {why}").into())
        }
        _ => Err(format!("timed out waiting for {what}").into()),
    }
}

fn landed(op: RoomOperation) -> impl Fn(&ClientEvent) -> bool {
    move |e| matches!(e, ClientEvent::OperationLanded { op: o, .. } if *o == op)
}

/// The command's own operation can never land.
fn failed(op: RoomOperation) -> impl Fn(&ClientEvent) -> bool {
    move |e| matches!(e, ClientEvent::OperationFailed { op: o, .. } if *o == op)
}

async fn run(args: Args) -> Res<()> {
    let kdf = Argon2Params { m_cost_kib: args.kdf_memory_kib, ..Argon2Params::DEFAULT };
    let ctx = Ctx {
        dir: args.dir,
        proxy: args.proxy,
        wait: Duration::from_secs(args.timeout),
        config: ClientConfig {
            kdf,
            insecure_weak_kdf_for_tests: args.insecure_weak_kdf_for_tests,
            ..ClientConfig::default()
        },
        passphrase: passphrase()?,
    };
    let mut printed = 0usize;
    match args.command {
        Command::Create { relay, relay_key, strict, auto_approve, admission_token } => {
            let mut d = ctx.create()?;
            let relay = RelayAddress::new(&relay, &parse_key(&relay_key)?)?;
            if let Some(token) = admission_token {
                d.client().set_admission_token(&relay, &parse_key(&token)?)?;
            }
            let history = if strict { HistoryPolicy::SinceJoin } else { HistoryPolicy::SinceLastEpoch };
            let room =
                d.client().create_room(&relay, RoomSettings { history, auto_approve, ..RoomSettings::default() })?;
            let create_failed = failed(RoomOperation::CreateRoom);
            let refused = |e: &ClientEvent| create_failed(e) || matches!(e, ClientEvent::AdmissionRefused { .. });
            let created = until(
                &mut d,
                ctx.wait,
                &mut printed,
                "the room's creation",
                landed(RoomOperation::CreateRoom),
                refused,
            )
            .await;
            if let Err(e) = created {
                // A creation that can never land, or a relay never reached (the CreateRoom never
                // left), leaves nothing: the directory is freed for another try. After a timeout
                // or a refused token the room may exist: its keys stay.
                let text = e.to_string();
                let nothing_made = text.contains("refused the request") || text.contains("could not reach");
                d.close().await?;
                if nothing_made {
                    let _ = std::fs::remove_file(ctx.state_path());
                } else {
                    eprintln!("the room may exist at the relay: its state stays in {}", ctx.dir.display());
                }
                return Err(e);
            }
            d.close().await?;
            println!("room {}", hex::encode(room));
        }
        Command::Invite { ttl } => {
            let (mut d, room) = ctx.open()?;
            let uri = d.client().invite(&room, ttl)?;
            let invite_key = zfc_core::Invite::parse(&uri)?.invite_pk().to_bytes().to_vec();
            let op = RoomOperation::RegisterInvite { invite_key };
            until(&mut d, ctx.wait, &mut printed, "the invite's registration", landed(op.clone()), failed(op)).await?;
            d.close().await?;
            println!("{uri}");
        }
        Command::Join { invite, name } => {
            let mut d = ctx.create()?;
            d.client().join_room(invite.trim(), &name)?;
            let joined = |e: &ClientEvent| matches!(e, ClientEvent::Joined { .. });
            let join_failed = |e: &ClientEvent| {
                matches!(
                    e,
                    ClientEvent::OperationFailed { op: RoomOperation::JoinRequest | RoomOperation::JoinConfirm, .. }
                )
            };
            let result = until(&mut d, ctx.wait, &mut printed, "the owner to add us", joined, join_failed).await;
            d.close().await?;
            result?;
        }
        Command::Approve { joiner } => {
            let joiner = parse_key(&joiner)?;
            let (mut d, room) = ctx.open()?;
            d.client().approve_join(&room, &joiner)?;
            let op = RoomOperation::Add { joiner: joiner.to_vec() };
            until(&mut d, ctx.wait, &mut printed, "the join", landed(op.clone()), failed(op)).await?;
            d.close().await?;
        }
        Command::Send { text } => {
            let (mut d, room) = ctx.open()?;
            let id = d.client().send_text(&room, &text.join(" "))?;
            let sent = |e: &ClientEvent| matches!(e, ClientEvent::MessageSent { local_id, .. } if *local_id == id);
            let refused =
                |e: &ClientEvent| matches!(e, ClientEvent::MessageRefused { local_id, .. } if *local_id == id);
            until(&mut d, ctx.wait, &mut printed, "the relay to take the message", sent, refused).await?;
            d.close().await?;
        }
        Command::Listen { count, seconds } => {
            let (mut d, _) = ctx.open()?;
            let end = seconds.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            loop {
                let left =
                    end.map_or(Duration::from_secs(3600), |e| e.saturating_duration_since(tokio::time::Instant::now()));
                if left.is_zero() {
                    break;
                }
                let want = count.map(|c| c.saturating_sub(printed));
                let mut messages = 0usize;
                let (events, _) = d
                    .run(left, |e| {
                        messages += usize::from(matches!(e, ClientEvent::Message { .. }));
                        want.is_some_and(|w| messages >= w)
                    })
                    .await?;
                for e in &events {
                    print_event(e, &mut printed);
                }
                if count.is_some_and(|c| printed >= c) {
                    break;
                }
            }
            d.close().await?;
        }
        Command::Members => {
            let (d, room) = ctx.open()?;
            let info = d.client().room_info(&room)?;
            println!("room {}", hex::encode(&room));
            if info.role == RoomRole::Joining {
                println!("(joining: the owner has not added us yet)");
            }
            for m in &info.members {
                println!("{m} {}", d.client().fingerprint(&room, *m)?);
            }
            d.client().close();
        }
        Command::Remove { member } => {
            let (mut d, room) = ctx.open()?;
            d.client().remove_member(&room, member)?;
            let op = RoomOperation::Remove { member };
            until(&mut d, ctx.wait, &mut printed, "the removal", landed(op.clone()), failed(op)).await?;
            d.close().await?;
            println!("member {member} removed");
        }
        Command::Rotate => {
            let (mut d, room) = ctx.open()?;
            d.client().rotate(&room)?;
            let op = RoomOperation::Rotate;
            until(&mut d, ctx.wait, &mut printed, "the rotation", landed(op.clone()), failed(op)).await?;
            d.close().await?;
        }
        Command::History { limit } => {
            let (mut d, room) = ctx.open()?;
            if d.client().room_info(&room)?.role == RoomRole::Owner {
                eprintln!("the owner reads the whole room live: there is no history to fetch");
            } else {
                d.client().fetch_history(&room, limit)?;
                let done = |e: &ClientEvent| matches!(e, ClientEvent::HistoryDone { .. });
                until(&mut d, ctx.wait, &mut printed, "the history", done, |_| false).await?;
            }
            d.close().await?;
        }
    }
    Ok(())
}
