/** EXPOSE port specs, parsed as BuildKit's `convert_expose.go` does: `[ip:][hostPort:]port[-end][/proto]`. */
export interface PortSpec {
  ip: string;
  hostPort: string;
  /** Protocol as written (`TCP`), `tcp` when absent. */
  proto: string;
  /** `port/proto` for each port of the range, protocol lower-cased. */
  ports: string[];
}

export function splitPortParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return { ip: '', hostPort: '', containerPort: parts[0]! };
  if (n === 2) return { ip: '', hostPort: parts[0]!, containerPort: parts[1]! };
  return { ip: parts.slice(0, n - 2).join(':'), hostPort: parts[n - 2]!, containerPort: parts[n - 1]! };
}

/** Parses one port spec; throws an `Error` with BuildKit's message when it is invalid. */
export function parsePortSpec(raw: string): PortSpec {
  const { ip, hostPort, containerPort: cp } = splitPortParts(raw);
  const slash = cp.indexOf('/');
  const port = slash < 0 ? cp : cp.slice(0, slash);
  const proto = slash < 0 ? '' : cp.slice(slash + 1);
  if (port === '') throw new Error(`invalid port: "${raw}": no port specified`);
  const lower = proto.toLowerCase();
  if (lower !== '' && lower !== 'tcp' && lower !== 'udp' && lower !== 'sctp') {
    throw new Error(`invalid port: "${raw}": invalid proto: ${proto}`);
  }
  const [start, end] = portRange(port, 'containerPort');
  if (hostPort !== '') {
    const [hs, he] = portRange(hostPort, 'hostPort');
    if (end - start !== he - hs && end !== start) {
      throw new Error(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const p = lower || 'tcp';
  const ports: string[] = [];
  for (let i = start; i <= end; i++) ports.push(`${i}/${p}`);
  return { ip, hostPort, proto: proto || 'tcp', ports };
}

function portRange(spec: string, what: string): [number, number] {
  const dash = spec.indexOf('-');
  const a = dash < 0 ? spec : spec.slice(0, dash);
  const b = dash < 0 ? undefined : spec.slice(dash + 1);
  const start = portNumber(a);
  if (start === undefined) throw new Error(`invalid ${what}: ${spec}`);
  if (b === undefined || a === b) return [start, start];
  const end = portNumber(b);
  if (end === undefined || end < start) throw new Error(`invalid ${what}: ${spec}`);
  return [start, end];
}

function portNumber(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 0 && n <= 65535 ? n : undefined;
}
