import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
export const TICKS_PER_S = 100;

/** Who a role's CPU comes from: processes by pid, and every process whose name starts with `comm`. */
export interface Role {
  name: string;
  pids?: number[];
  comm?: string;
}

/** CPU ticks (user + system) used so far by each role's processes. */
export type CpuSnapshot = Map<string, number>;

function ticksOf(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export function cpuSnapshot(roles: Role[]): CpuSnapshot {
  const out: CpuSnapshot = new Map(roles.map((r) => [r.name, 0]));
  const byPid = new Map<number, string>();
  for (const r of roles) for (const pid of r.pids ?? []) byPid.set(pid, r.name);
  const byComm = roles.filter((r) => r.comm);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let role = byPid.get(pid);
    let stat: string | undefined;
    try {
      if (!role && byComm.length > 0) {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        role = byComm.find((r) => comm.startsWith(r.comm!))?.name;
      }
      if (!role) continue;
      stat ??= readFileSync(`/proc/${entry}/stat`, 'utf8');
      out.set(role, out.get(role)! + ticksOf(stat));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/** CPU per operation between two snapshots, in µs, by role and in all (`total`). */
export function cpuPerOp(before: CpuSnapshot, after: CpuSnapshot, ops: number): Record<string, number> | null {
  if (ops <= 0) return null;
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, ticks] of after) {
    const us = ((ticks - (before.get(name) ?? 0)) * (1e6 / TICKS_PER_S)) / ops;
    out[name] = Math.round(us);
    total += us;
  }
  out.total = Math.round(total);
  return out;
}
