//! Real network partitions for fault tests. Each node runs in its own Linux network namespace, so
//! a cut drops exactly the packets a broken network would, while the test process in the root
//! namespace keeps talking to every node. Needs root and iproute2, nothing else. Every namespace,
//! veth and bridge is registered with [`crate::teardown`] as it is made, so that an interrupted
//! run removes it too.

use crate::teardown::{self, Made};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Numbers this process's networks, so names and subnets never repeat within it.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A private network of namespaces joined by one bridge in the root namespace; the test process
/// reaches every host through the bridge's own address.
#[derive(Debug)]
pub struct Network {
    bridge: String,
    root_address: Ipv4Addr,
    hosts: Vec<Host>,
}

#[derive(Clone, Debug)]
pub struct Host {
    pub namespace: String,
    pub address: Ipv4Addr,
    /// The root-namespace end of the host's veth pair; its other end is `eth0` in the namespace.
    veth: String,
    /// Set at creation so that a partition can address frames to it without asking the kernel.
    mac: String,
}

/// Delay and loss added in each direction of one host's link.
#[derive(Clone, Copy, Debug)]
pub struct Netem {
    pub delay_ms: u32,
    pub jitter_ms: u32,
    pub loss_percent: f32,
}

impl Network {
    /// Whether this machine lets us build one: Err(reason) otherwise, so a caller can say clearly
    /// why it cannot run.
    pub fn probe() -> Result<(), String> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
        let effective_root = status
            .lines()
            .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(2) == Some("0"));
        if !effective_root {
            return Err("network namespaces need root".into());
        }
        run("ip", "-V").map_err(|e| format!("iproute2 is missing: {e}"))?;
        // Building one for real is the only check that covers netns, veth and bridge support.
        Network::create(2)
            .map(drop)
            .map_err(|e| format!("cannot build a test network: {e}"))
    }

    /// Builds `hosts` namespaces at 10.X.Y.(i+1)/24, the bridge at 10.X.Y.254. The subnet comes from
    /// the pid and a counter, skipping any the root namespace already uses, so concurrent test
    /// processes do not collide.
    pub fn create(hosts: usize) -> io::Result<Network> {
        if hosts == 0 || hosts > 253 {
            let message = format!("a network has 1 to 253 hosts, not {hosts}");
            return Err(invalid(message));
        }
        remove_stale();
        let pid = std::process::id();
        let (number, x, y) = loop {
            let number = NEXT.fetch_add(1, Ordering::Relaxed);
            // Interface names hold at most 15 bytes: "cv" + tag + "-" + two hex digits of index.
            if format!("{pid:x}-{number:x}").len() > 10 {
                return Err(io::Error::other("this process built too many networks"));
            }
            let n = pid.wrapping_mul(64).wrapping_add(number) & 0xffff;
            let (x, y) = (1 + (n >> 8) % 254, n & 0xff);
            let taken = format!("10.{x}.{y}.");
            let in_use = ip(None, "-o -4 addr show")? + &ip(None, "-4 route show table all")?;
            let stale = exists("/sys/class/net", &format!("cb{pid:x}-{number:x}"))
                || exists("/run/netns", &format!("charter-{pid}-{number}-0"));
            if !stale && !in_use.split_whitespace().any(|w| w.starts_with(&taken)) {
                break (number, x as u8, y as u8);
            }
        };
        let tag = format!("{pid:x}-{number:x}");
        let address = |last: u8| Ipv4Addr::new(10, x, y, last);
        // Filled in step by step, so that Drop removes whatever a failure leaves behind.
        let mut network = Network {
            bridge: format!("cb{tag}"),
            root_address: address(254),
            hosts: Vec::with_capacity(hosts),
        };
        let bridge = network.bridge.clone();
        teardown::make(Made::Bridge(bridge.clone()), || {
            ip(None, &format!("link add {bridge} type bridge"))
        })?;
        ip(None, &format!("addr add 10.{x}.{y}.254/24 dev {bridge}"))?;
        ip(None, &format!("link set {bridge} up"))?;
        for index in 0..hosts {
            let host = Host {
                namespace: format!("charter-{pid}-{number}-{index}"),
                address: address(index as u8 + 1),
                veth: format!("cv{tag}-{index:x}"),
                mac: format!("02:63:{x:02x}:{y:02x}:00:{:02x}", index + 1),
            };
            let (name, veth, address, mac) = (&host.namespace, &host.veth, host.address, &host.mac);
            let ns = Some(name.as_str());
            network.hosts.push(host.clone());
            teardown::make(Made::Namespace(name.clone()), || {
                ip(None, &format!("netns add {name}"))
            })?;
            let peer = format!("peer name eth0 netns {name}");
            teardown::make(Made::Veth(veth.clone()), || {
                ip(None, &format!("link add {veth} type veth {peer}"))
            })?;
            ip(None, &format!("link set {veth} master {bridge} up"))?;
            ip(ns, &format!("link set eth0 address {mac}"))?;
            ip(ns, &format!("addr add {address}/24 dev eth0"))?;
            ip(ns, "link set lo up")?;
            ip(ns, "link set eth0 up")?;
        }
        Ok(network)
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The address the test process's connections to hosts come from.
    pub fn root_address(&self) -> Ipv4Addr {
        self.root_address
    }

    /// A Command that runs `program` inside host `index`'s namespace; `ip netns exec` execs it, so
    /// the child's pid is the program's own and killing the child kills the program.
    pub fn command(&self, index: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.hosts[index].namespace])
            .arg(program);
        command
    }

    /// Cuts the network into groups: hosts in different groups exchange no packets, hosts in one
    /// group still do, the root namespace still reaches everyone, and hosts in no group are cut
    /// from all others. Replaces any earlier partition.
    ///
    /// Each host gets permanent neighbour entries that map a cut peer's address to the host's own
    /// MAC: the bridge drops such frames (they would leave through the port they came in on), so
    /// packets vanish silently and connections time out as on a real partition, whereas routes
    /// (blackhole, prohibit) would fail `connect` at once. iproute2 alone, no tc or netfilter
    /// module, and ARP never overrides permanent entries.
    pub fn partition(&self, groups: &[&[usize]]) -> io::Result<()> {
        let mut group_of = vec![None; self.hosts.len()];
        for (group, members) in groups.iter().enumerate() {
            for &index in members.iter() {
                match group_of.get_mut(index) {
                    Some(slot @ None) => *slot = Some(group),
                    Some(Some(_)) => return Err(invalid(format!("host {index} is in two groups"))),
                    None => return Err(invalid(format!("there is no host {index}"))),
                }
            }
        }
        self.heal()?;
        for (i, host) in self.hosts.iter().enumerate() {
            for (j, peer) in self.hosts.iter().enumerate() {
                if i != j && (group_of[i].is_none() || group_of[i] != group_of[j]) {
                    let (address, mac) = (peer.address, &host.mac);
                    let neighbour = format!("{address} lladdr {mac} nud permanent dev eth0");
                    ip(Some(&host.namespace), &format!("neigh replace {neighbour}"))?;
                }
            }
        }
        Ok(())
    }

    /// Removes every partition; the next packet to a former peer resolves it by ARP again.
    pub fn heal(&self) -> io::Result<()> {
        for host in &self.hosts {
            ip(Some(&host.namespace), "neigh flush dev eth0 nud permanent")?;
        }
        Ok(())
    }

    /// Delay and loss on host `index`'s link, in both directions (netem on each end of its veth),
    /// or removes them with None. Err of kind Unsupported when the kernel has no netem, so a test
    /// can skip rather than fail.
    pub fn degrade(&self, index: usize, netem: Option<Netem>) -> io::Result<()> {
        let host = self
            .hosts
            .get(index)
            .ok_or_else(|| invalid(format!("no host {index}")))?;
        for (ns, dev) in [
            (None, host.veth.as_str()),
            (Some(host.namespace.as_str()), "eth0"),
        ] {
            let netns = ns.map_or(String::new(), |ns| format!("-n {ns} "));
            let tc = |args: String| run("tc", &format!("{netns}{args}"));
            match netem {
                Some(n) => {
                    let (delay, jitter, loss) = (n.delay_ms, n.jitter_ms, n.loss_percent);
                    let netem = format!("delay {delay}ms {jitter}ms loss {loss}%");
                    tc(format!("qdisc replace dev {dev} root netem {netem}")).map_err(|e| {
                        if !e.to_string().contains("qdisc kind is unknown") {
                            return e;
                        }
                        let reason = format!("{e} (the kernel lacks CONFIG_NET_SCH_NETEM)");
                        io::Error::new(io::ErrorKind::Unsupported, reason)
                    })?;
                }
                // Deleting the default qdisc fails, so only a netem one is deleted.
                None if tc(format!("qdisc show dev {dev} root"))?.contains("netem") => {
                    tc(format!("qdisc del dev {dev} root"))?;
                }
                None => {}
            }
        }
        Ok(())
    }
}

impl Drop for Network {
    /// Deleting the veth first cuts hosts whose processes outlive the network: `ip netns del` only
    /// unlinks the name of a namespace that still has processes.
    fn drop(&mut self) {
        // What cannot be deleted is named below.
        for host in &self.hosts {
            let _ = teardown::remove(Made::Veth(host.veth.clone()));
            let _ = teardown::remove(Made::Namespace(host.namespace.clone()));
        }
        let _ = teardown::remove(Made::Bridge(self.bridge.clone()));
        let links = self.hosts.iter().map(|h| &h.veth).chain([&self.bridge]);
        let namespaces = self.hosts.iter().map(|h| &h.namespace);
        let left: Vec<&String> = (links.filter(|link| exists("/sys/class/net", link)))
            .chain(namespaces.filter(|ns| exists("/run/netns", ns)))
            .collect();
        if !left.is_empty() {
            let _ = writeln!(io::stderr(), "netns: could not delete {left:?}");
        }
    }
}

/// Deletes the namespaces and bridges of test processes that died without dropping their
/// network (a test killed on timeout): names carry the creating pid.
fn remove_stale() {
    let dead =
        |pid: Option<u32>| pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
    for (dir, prefix, radix) in [("/run/netns", "charter-", 10), ("/sys/class/net", "cb", 16)] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = (name.strip_prefix(prefix))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| u32::from_str_radix(pid, radix).ok());
            if dead(pid) {
                let _ = match radix {
                    10 => ip(None, &format!("netns del {name}")),
                    _ => ip(None, &format!("link del {name}")),
                };
            }
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn exists(dir: &str, name: &str) -> bool {
    Path::new(dir).join(name).exists()
}

/// Runs `ip [-n NAMESPACE] ARGS…`.
pub(crate) fn ip(namespace: Option<&str>, args: &str) -> io::Result<String> {
    match namespace {
        Some(ns) => run("ip", &format!("-n {ns} {args}")),
        None => run("ip", args),
    }
}

/// Runs a command to completion; its error names the command line and carries its stderr. Every
/// argument we pass is free of spaces, so a line split on whitespace is the argument list.
fn run(program: &str, args: &str) -> io::Result<String> {
    let line = format!("{program} {args}");
    let output = Command::new(program)
        .args(args.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("`{line}` did not start: {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(io::Error::other(format!(
        "`{line}` failed ({}): {}",
        output.status,
        stderr.trim()
    )))
}
