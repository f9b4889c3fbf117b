/**
 * Who is on the other end of a loopback connection. Lambda's Runtime API is reachable only from
 * inside the execution environment; a local one listens on 127.0.0.1, which every process of the
 * machine can reach, and runtime clients (aws-lambda-ric among them) take nothing but `host:port`,
 * so no secret can travel in the address. Linux tells which socket inode the client end is
 * (`/proc/net/tcp`), and which processes hold it (`/proc/<pid>/fd`): a connection is the
 * function's when the runtime process, or one it started, holds it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Whether this machine can tell (Linux with /proc); elsewhere nothing is checked. */
export function canIdentifyPeers(): boolean {
  try {
    readFileSync('/proc/net/tcp', 'utf8');
    return true;
  } catch {
    return false;
  }
}

const hexPort = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
/** 127.0.0.1 as /proc/net/tcp writes it (the address in host byte order, little-endian). */
const LOOPBACK = '0100007F';

/** The inode of the client's socket of the loopback connection `clientPort` → `serverPort`. */
export function clientSocketInode(clientPort: number, serverPort: number, table: string = readFileSync('/proc/net/tcp', 'utf8')): string | undefined {
  const local = `${LOOPBACK}:${hexPort(clientPort)}`;
  const remote = `${LOOPBACK}:${hexPort(serverPort)}`;
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f[1] === local && f[2] === remote) return f[9];
  }
  return undefined;
}

function holdsSocket(pid: number, inode: string): boolean {
  const link = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return true;
    } catch {
      // Closed meanwhile.
    }
  }
  return false;
}

/** `root` and every process below it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // Exited meanwhile.
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** Whether the client end of `clientPort` → `serverPort` belongs to `root` or a process it started. */
export function isPeerInProcessTree(clientPort: number, serverPort: number, root: number): boolean {
  const inode = clientSocketInode(clientPort, serverPort);
  if (inode === undefined || inode === '0') return false;
  if (holdsSocket(root, inode)) return true;
  return processTree(root).slice(1).some((pid) => holdsSocket(pid, inode));
}
