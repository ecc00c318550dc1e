/**
 * A very small stand-in for a container's process, used by the fake runtime so that pods
 * written for busybox (`sleep 3600`, `sh -c 'echo hi; exit 3'`) behave plausibly without a
 * real engine. Hand-written because no library simulates a shell without running one, and
 * the fake must not spawn processes.
 *
 * Supported:
 * - `sh -c SCRIPT` (also bash/ash, with or without a path). SCRIPT is simple commands
 *   joined by `;`, `&&`, `||` or newlines; words may be quoted ('…', "…"); `$VAR` and
 *   `${VAR}` expand from the environment outside single quotes; `>&2` / `1>&2` send echo
 *   output to stderr.
 * - Commands: `echo [-n] …`, `exit [N]`, `sleep SECONDS|infinity`, `true`, `false`, `:`.
 *   Inside a script an unknown command prints "sh: X: not found" and has status 127.
 * - `sh` alone exits 0 at once (no terminal, as busybox's default command does in Docker);
 *   with stdin (exec -i, attach) it reads commands line by line until `exit` or EOF, printing
 *   a `/ # ` prompt and echoing input when on a tty.
 * - `cat` (no arguments, or `-`) copies stdin to stdout until EOF; `cat FILE…` prints files
 *   the runtime can read (`ShellIO.readFile`: the fake runtime resolves them through the
 *   container's mounts).
 * - `ps` lists the processes of the caller's PID namespace (`ShellIO.processes`: the fake
 *   runtime's main processes sharing it) and itself, in busybox's format.
 * - Anything else at top level (no command at all, `pause`, a server binary) runs until the
 *   container is stopped.
 */

export interface ShellIO {
  readonly env: Readonly<Record<string, string>>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted when the process is killed. */
  readonly signal: AbortSignal;
  /** The process's stdin, when one is attached (exec -i); absent means /dev/null. */
  readonly stdin?: AsyncIterable<Buffer | string>;
  /** stdin is a terminal: the interactive shell prompts and echoes. */
  readonly tty?: boolean;
  /** Reads a file as the process sees it (the fake runtime: through the container's mounts); undefined: no such file. */
  readFile?(path: string): Promise<Buffer | undefined>;
  /** The processes of the PID namespace the process is in (pid order), for `ps`; absent: none but itself. */
  processes?(): ReadonlyArray<{ pid: number; command: string }>;
}

/** Exit status a process reports when killed (128 + SIGKILL), as Docker does. */
export const KILLED_EXIT_CODE = 137;

const SHELLS = new Set(['sh', 'bash', 'ash']);

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

/** Resolves once `signal` aborts, with the killed exit code. */
export function untilKilled(signal: AbortSignal): Promise<number> {
  if (signal.aborted) return Promise.resolve(KILLED_EXIT_CODE);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(KILLED_EXIT_CODE), { once: true }));
}

/**
 * Waits `ms`, or less if `signal` aborts; resolves true when the full time passed. The timer
 * keeps Node running (like a real process would), so stop fake containers when done.
 */
export function sleepFor(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = (): void => { clearTimeout(t); resolve(false); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `argv` as a container's main process or an exec'd command; resolves with its exit status. */
export async function runFakeCommand(argv: readonly string[], io: ShellIO): Promise<number> {
  if (argv.length === 0) return untilKilled(io.signal);
  const prog = basename(argv[0] ?? '');
  if (SHELLS.has(prog)) {
    if (argv[1] === '-c' && argv[2] !== undefined) return runScript(argv[2], io);
    if (io.stdin) return interactive(io, io.stdin);
    return 0;
  }
  if (prog in BUILTINS) {
    const r = await runSimple([...argv], io, false);
    return r.status;
  }
  return untilKilled(io.signal);
}

interface Result { status: number; exit: boolean }

type Builtin = (args: string[], io: ShellIO, toStderr: boolean) => Promise<Result> | Result;

const BUILTINS: Record<string, Builtin> = {
  echo(args, io, toStderr) {
    let newline = true;
    if (args[0] === '-n') { newline = false; args = args.slice(1); }
    const text = args.join(' ') + (newline ? '\n' : '');
    if (toStderr) io.stderr(text); else io.stdout(text);
    return { status: 0, exit: false };
  },
  true: () => ({ status: 0, exit: false }),
  ':': () => ({ status: 0, exit: false }),
  false: () => ({ status: 1, exit: false }),
  exit(args) {
    const n = args[0] === undefined ? 0 : Number.parseInt(args[0], 10);
    return { status: Number.isNaN(n) ? 2 : n & 255, exit: true };
  },
  async cat(args, io, toStderr) {
    if (args.length > 0 && !(args.length === 1 && args[0] === '-')) {
      let status = 0;
      for (const f of args) {
        const data = await io.readFile?.(f);
        if (data === undefined) {
          io.stderr(`cat: can't open '${f}': No such file or directory\n`);
          status = 1;
        } else if (toStderr) io.stderr(data.toString('utf8')); else io.stdout(data.toString('utf8'));
      }
      return { status, exit: false };
    }
    if (!io.stdin) return { status: 0, exit: false };
    for await (const chunk of io.stdin) {
      if (io.signal.aborted) return { status: KILLED_EXIT_CODE, exit: true };
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (toStderr) io.stderr(text); else io.stdout(text);
    }
    return { status: 0, exit: false };
  },
  ps(args, io, toStderr) {
    const procs = [...(io.processes?.() ?? [])];
    procs.push({ pid: (procs.at(-1)?.pid ?? 0) + 1, command: ['ps', ...args].join(' ') });
    const text = `PID   USER     COMMAND\n${procs.map((p) => `${String(p.pid).padStart(5)} root     ${p.command}\n`).join('')}`;
    if (toStderr) io.stderr(text); else io.stdout(text);
    return { status: 0, exit: false };
  },
  async sleep(args, io) {
    const arg = args[0] ?? '';
    if (arg === 'infinity') return { status: await untilKilled(io.signal), exit: true };
    const seconds = Number(arg);
    if (!Number.isFinite(seconds) || seconds < 0) {
      io.stderr(`sleep: invalid number '${arg}'\n`);
      return { status: 1, exit: false };
    }
    const finished = await sleepFor(seconds * 1000, io.signal);
    return finished ? { status: 0, exit: false } : { status: KILLED_EXIT_CODE, exit: true };
  },
};

async function runSimple(words: string[], io: ShellIO, inScript: boolean): Promise<Result> {
  let toStderr = false;
  words = words.filter((w) => {
    if (w === '>&2' || w === '1>&2') { toStderr = true; return false; }
    return true;
  });
  const [cmd, ...args] = words;
  if (cmd === undefined) return { status: 0, exit: false };
  const builtin = BUILTINS[basename(cmd)];
  if (builtin) return builtin(args, io, toStderr);
  if (!inScript) return { status: await untilKilled(io.signal), exit: true };
  io.stderr(`sh: ${cmd}: not found\n`);
  return { status: 127, exit: false };
}

type Token = { kind: 'word'; value: string } | { kind: 'op'; value: ';' | '&&' | '||' };

/** Splits a script into words and separators, handling quotes and $VAR expansion. */
export function tokenize(script: string, env: Readonly<Record<string, string>>): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  const flush = (): void => {
    if (inWord) tokens.push({ kind: 'word', value: word });
    word = '';
    inWord = false;
  };
  const expand = (i: number): [string, number] => {
    // script[i] === '$'
    const braced = script[i + 1] === '{';
    const start = braced ? i + 2 : i + 1;
    let j = start;
    while (j < script.length && /[A-Za-z0-9_]/.test(script[j] ?? '')) j++;
    if (j === start) return ['$', i + 1];
    const name = script.slice(start, j);
    if (braced) {
      if (script[j] !== '}') return ['$', i + 1];
      j++;
    }
    return [env[name] ?? '', j];
  };
  let i = 0;
  while (i < script.length) {
    const c = script[i] ?? '';
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? script.length : end;
      word += script.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === '\\' && i + 1 < script.length) { word += script[i + 1]; i += 2; continue; }
        if (script[i] === '$') { const [v, next] = expand(i); word += v; i = next; continue; }
        word += script[i];
        i++;
      }
      i++;
    } else if (c === '$') {
      const [v, next] = expand(i);
      word += v;
      inWord = true;
      i = next;
    } else if (c === ';' || c === '\n') {
      flush();
      tokens.push({ kind: 'op', value: ';' });
      i++;
    } else if ((c === '&' || c === '|') && script[i + 1] === c) {
      flush();
      tokens.push({ kind: 'op', value: c === '&' ? '&&' : '||' });
      i += 2;
    } else if (c === ' ' || c === '\t') {
      flush();
      i++;
    } else if (c === '\\' && i + 1 < script.length) {
      word += script[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  flush();
  return tokens;
}

async function runScript(script: string, io: ShellIO): Promise<number> {
  return (await runScriptR(script, io)).status;
}

/** `sh` reading commands from stdin, one line at a time, until `exit` or EOF. */
async function interactive(io: ShellIO, input: AsyncIterable<Buffer | string>): Promise<number> {
  const prompt = (): void => { if (io.tty) io.stdout('/ # '); };
  // The lines are read off one iterator; commands that read stdin (cat) get none of them.
  const lineIo: ShellIO = {
    env: io.env, stdout: (t) => io.stdout(t), stderr: (t) => io.stderr(t), signal: io.signal, ...(io.tty !== undefined ? { tty: io.tty } : {}),
    ...(io.readFile ? { readFile: (p: string) => io.readFile!(p) } : {}), ...(io.processes ? { processes: () => io.processes!() } : {}),
  };
  let status = 0;
  let buf = '';
  prompt();
  for await (const chunk of input) {
    if (io.signal.aborted) return KILLED_EXIT_CODE;
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (let i = buf.search(/[\r\n]/); i >= 0; i = buf.search(/[\r\n]/)) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (io.tty) io.stdout(`${line}\r\n`);
      const r = await runScriptR(line, lineIo);
      status = r.status;
      if (r.exit) return status;
      prompt();
    }
  }
  if (buf.trim()) status = (await runScriptR(buf, lineIo)).status;
  return status;
}

async function runScriptR(script: string, io: ShellIO): Promise<Result> {
  const tokens = tokenize(script, io.env);
  let status = 0;
  let pendingOp: ';' | '&&' | '||' = ';';
  let words: string[] = [];
  const runPending = async (): Promise<boolean> => {
    const skip = (pendingOp === '&&' && status !== 0) || (pendingOp === '||' && status === 0);
    if (!skip && words.length > 0) {
      const r = await runSimple(words, io, true);
      status = r.status;
      if (r.exit) return true;
    }
    words = [];
    return io.signal.aborted;
  };
  for (const t of tokens) {
    if (t.kind === 'word') { words.push(t.value); continue; }
    if (await runPending()) return { status: io.signal.aborted ? KILLED_EXIT_CODE : status, exit: true };
    pendingOp = t.value;
  }
  const exited = await runPending();
  return { status: io.signal.aborted ? KILLED_EXIT_CODE : status, exit: exited };
}
