'use strict';
/**
 * Local single-node Apache Kafka (KRaft) broker for development, tests and CI.
 *
 * No Docker and no Kafka distribution download: the broker jars come from
 * Maven Central through tools/kafka/pom.xml and are cached in
 * <repoRoot>/.cache/kafka/libs. The broker runs as a detached JVM whose pid is
 * kept in <dataDir>/broker.pid, so any process (CLI, jest globalSetup, CI
 * script) can start it, reuse it or stop it.
 *
 * Plain CommonJS on purpose: importable from .mjs scripts and require-able
 * from jest TypeScript tests without a build step. Types: broker.d.ts.
 */

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const DEFAULT_REPO_ROOT = path.resolve(__dirname, '..', '..');
const POM = path.join(__dirname, 'pom.xml');
const MARKER = '.complete';
const PID_FILE = 'broker.pid';
const POLL_MS = 500;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Paths and small helpers
// ---------------------------------------------------------------------------

function cacheDir(repoRoot = DEFAULT_REPO_ROOT) {
  return path.join(repoRoot, '.cache', 'kafka');
}

function libsDir(repoRoot = DEFAULT_REPO_ROOT) {
  return path.join(cacheDir(repoRoot), 'libs');
}

function defaultDataDir(port, repoRoot = DEFAULT_REPO_ROOT) {
  return path.join(cacheDir(repoRoot), `data-${port}`);
}

/** Absolute path of an executable found on PATH, or null. */
function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, cmd);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

function findJava() {
  const onPath = which('java');
  if (onPath) return onPath;
  const home = process.env.JAVA_HOME && path.join(process.env.JAVA_HOME, 'bin', 'java');
  if (home && fs.existsSync(home)) return home;
  throw new Error(
    'Kafka needs a Java runtime (17+), but `java` is not on PATH (and JAVA_HOME is not set). ' +
      'Install one, e.g. `apt-get install -y openjdk-17-jre-headless`.',
  );
}

// Maven prints colour codes even in batch mode with -q.
// eslint-disable-next-line no-control-regex
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

function tail(text, lines = 40) {
  return stripAnsi(text).trimEnd().split('\n').slice(-lines).join('\n');
}

function readTail(file, lines = 40) {
  try {
    return tail(fs.readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no log output)';
  }
}

/** Runs a command, resolving with its combined stdout+stderr and exit code. */
function run(cmd, args, { cwd, timeoutMs } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const collect = (chunk) => {
      out += chunk;
      if (out.length > 1_000_000) out = out.slice(-500_000); // keep only the tail
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = timeoutMs
      ? setTimeout(() => {
          out += `\n(timed out after ${timeoutMs} ms)`;
          child.kill('SIGKILL');
        }, timeoutMs)
      : null;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      resolve({ code: -1, out: `${out}\n${err.message}` });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), out });
    });
  });
}

// ---------------------------------------------------------------------------
// Jars
// ---------------------------------------------------------------------------

function pomHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

function jarsReady(libs, hash) {
  try {
    return JSON.parse(fs.readFileSync(path.join(libs, MARKER), 'utf8')).pom === hash;
  } catch {
    return false;
  }
}

/**
 * Makes sure the Kafka broker jars are in <repoRoot>/.cache/kafka/libs,
 * fetching them with Maven when the marker is missing or pom.xml changed.
 * Resolves with the libs directory.
 */
async function ensureKafkaJars({ repoRoot = DEFAULT_REPO_ROOT } = {}) {
  const libs = libsDir(repoRoot);
  const hash = pomHash();
  if (jarsReady(libs, hash)) return libs;

  const mvn = which('mvn');
  if (!mvn) {
    throw new Error(
      'Fetching the Kafka jars needs Maven, but `mvn` is not on PATH. ' +
        'Install it, e.g. `apt-get install -y maven`.',
    );
  }

  // Fetch into a private directory and rename it into place, so concurrent
  // callers (two brokers started at once) never see a half-filled libs dir.
  const tmp = `${libs}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  process.stderr.write(`[kafka] fetching broker jars with Maven into ${libs} ...\n`);
  const started = Date.now();
  const { code, out } = await run(
    mvn,
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
      '-DincludeScope=runtime',
    ],
    { cwd: repoRoot, timeoutMs: 15 * 60_000 },
  );
  const jars = fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((f) => f.endsWith('.jar')) : [];
  if (code !== 0 || !jars.some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `Fetching the Kafka jars with Maven failed (exit ${code}). ` +
        `Command: mvn -f ${POM} dependency:copy-dependencies\n--- Maven output (tail) ---\n` +
        tail(out || '(no output)'),
    );
  }
  fs.writeFileSync(
    path.join(tmp, MARKER),
    JSON.stringify({ pom: hash, jars: jars.length, fetchedAt: new Date().toISOString() }) + '\n',
  );

  if (jarsReady(libs, hash)) {
    // Someone else finished first; theirs is as good as ours.
    fs.rmSync(tmp, { recursive: true, force: true });
  } else {
    fs.rmSync(libs, { recursive: true, force: true }); // stale or incomplete
    try {
      fs.renameSync(tmp, libs);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!jarsReady(libs, hash)) throw err;
    }
  }
  process.stderr.write(
    `[kafka] fetched ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return libs;
}

// ---------------------------------------------------------------------------
// Probing
// ---------------------------------------------------------------------------

function parseBroker(brokers) {
  const first = String(brokers).split(',')[0].trim();
  const idx = first.lastIndexOf(':');
  return { host: first.slice(0, idx) || '127.0.0.1', port: Number(first.slice(idx + 1)) };
}

/** Resolves true if something accepts a TCP connection on host:port. */
function tcpOpen(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves true if a Kafka broker answers a DescribeCluster (metadata) request
 * and reports at least one (unfenced) broker. Never rejects.
 */
async function isKafkaUp(brokers, timeoutMs = 3000) {
  const { host, port } = parseBroker(brokers);
  if (!(await tcpOpen(host, port, Math.min(timeoutMs, 1000)))) return false;

  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({
    clientId: 'iip-kafka-probe',
    brokers: String(brokers).split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();

  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = (async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  })().catch(() => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Process bookkeeping
// ---------------------------------------------------------------------------

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers kill(0).
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Guards against pid reuse: on Linux, check the process really is a Kafka JVM. */
function looksLikeKafka(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return process.platform !== 'linux';
  }
}

function readPid(pidFile) {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid of the live Kafka JVM recorded in dataDir, or null (stale files removed). */
function livePid(dataDir) {
  const pidFile = path.join(dataDir, PID_FILE);
  const pid = readPid(pidFile);
  if (pid && isAlive(pid) && looksLikeKafka(pid)) return pid;
  fs.rmSync(pidFile, { force: true });
  return null;
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function waitForPortFree(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (await tcpOpen('127.0.0.1', port, 500)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

// ---------------------------------------------------------------------------
// Start / stop
// ---------------------------------------------------------------------------

/** 22-char base64url of 16 random bytes, as Kafka's Uuid.randomUuid makes them. */
function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    // Kafka avoids ids starting with '-' (they would read as a CLI option).
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties({ port, controllerPort, logDirs }) {
  return `# Generated by tools/kafka/broker.cjs on each start; edits are overwritten.
# Single-node KRaft: this process is both the broker and the only controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${logDirs}
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
# After a hard kill the old broker registration blocks re-registration until
# its session expires (default 9 s); shorter makes restarts in failure tests
# quicker. Broker and controller share this JVM, so heartbeats are local.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
`;
}

function log4jProperties(level) {
  // ConsoleAppender: the JVM's stdout/stderr are already the log file.
  return `log4j.rootLogger=${level}, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
`;
}

/**
 * Starts (or reuses) a single-node KRaft Kafka broker on 127.0.0.1:port.
 * Resolves once the broker answers DescribeCluster.
 */
async function startKafka(opts = {}) {
  const repoRoot = opts.repoRoot ?? DEFAULT_REPO_ROOT;
  const port = opts.port ?? 9092;
  const controllerPort = opts.controllerPort ?? port + 1;
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir(port, repoRoot));
  const logFile = path.resolve(opts.logFile ?? path.join(dataDir, 'broker.log'));
  const heapMb = opts.heapMb ?? 512;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const brokers = `127.0.0.1:${port}`;

  fs.mkdirSync(dataDir, { recursive: true });
  // Serialise concurrent starts on one dataDir (parallel test workers, two
  // terminals): the loser waits, then finds the broker up and reuses it.
  return withStartLock(dataDir, readyTimeoutMs + 15 * 60_000, () =>
    startLocked({ repoRoot, port, controllerPort, dataDir, logFile, heapMb, readyTimeoutMs, brokers }),
  );
}

async function startLocked({ repoRoot, port, controllerPort, dataDir, logFile, heapMb, readyTimeoutMs, brokers }) {
  const pidFile = path.join(dataDir, PID_FILE);

  if (await isKafkaUp(brokers)) {
    const pid = livePid(dataDir); // known only if we started it from this dataDir
    return pid ? { brokers, started: false, pid } : { brokers, started: false };
  }

  // Our own broker may still be booting (e.g. started by a parallel process).
  const existing = livePid(dataDir);
  if (existing) {
    await waitUntilReady({ brokers, pid: existing, logFile, readyTimeoutMs });
    return { brokers, started: false, pid: existing };
  }

  // Port taken by something that is not (yet) a Kafka broker: give a starting
  // foreign broker a short grace period, then fail clearly instead of letting
  // the JVM die with a bind error.
  if (await tcpOpen('127.0.0.1', port)) {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (await isKafkaUp(brokers)) return { brokers, started: false };
      await sleep(POLL_MS);
    }
    throw new Error(`Port ${port} is in use by something that is not a ready Kafka broker.`);
  }

  const java = findJava();
  const libs = await ensureKafkaJars({ repoRoot });
  const classpath = path.join(libs, '*'); // expanded by the JVM, not a shell

  const logDirs = path.join(dataDir, 'logs');
  const propsFile = path.join(dataDir, 'server.properties');
  const log4jFile = path.join(dataDir, 'log4j.properties');
  const toolsLog4jFile = path.join(dataDir, 'tools-log4j.properties');
  fs.writeFileSync(propsFile, serverProperties({ port, controllerPort, logDirs }));
  fs.writeFileSync(log4jFile, log4jProperties('INFO'));
  fs.writeFileSync(toolsLog4jFile, log4jProperties('WARN'));

  if (!fs.existsSync(path.join(logDirs, 'meta.properties'))) {
    const { code, out } = await run(
      java,
      [
        '-Xmx256m',
        '-cp',
        classpath,
        `-Dlog4j.configuration=file:${toolsLog4jFile}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        newClusterId(),
        '-c',
        propsFile,
      ],
      { timeoutMs: 120_000 },
    );
    if (code !== 0) {
      throw new Error(`Formatting Kafka storage in ${logDirs} failed (exit ${code}):\n${tail(out)}`);
    }
  }

  // Keep the previous run's log around for post-mortems; start a fresh one.
  if (fs.existsSync(logFile)) fs.renameSync(logFile, `${logFile}.prev`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const logFd = fs.openSync(logFile, 'a');
  let child;
  try {
    // Fully detached, stdio on the log file: never hand the JVM our own
    // stdout/stderr, or a CI runner waiting for those pipes to close would
    // hang for as long as the broker lives.
    child = spawn(
      java,
      [
        `-Xms${heapMb}m`,
        `-Xmx${heapMb}m`,
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${log4jFile}`,
        // Kafka's own logs dir (gc logs etc. if ever enabled) instead of cwd.
        `-Dkafka.logs.dir=${dataDir}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        propsFile,
      ],
      { cwd: dataDir, detached: true, stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    fs.closeSync(logFd);
  }
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});
  child.unref();
  if (!child.pid) await spawnError; // spawn failed synchronously-ish: surface it
  fs.writeFileSync(pidFile, `${child.pid}\n`);

  try {
    await waitUntilReady({ brokers, pid: child.pid, logFile, readyTimeoutMs });
  } catch (err) {
    // Don't leave a half-started broker behind.
    if (isAlive(child.pid)) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
      await waitForExit(child.pid, 5000);
    }
    fs.rmSync(pidFile, { force: true });
    throw err;
  }
  return { brokers, started: true, pid: child.pid };
}

/** Runs fn holding <dataDir>/start.lock (exclusive create; stale locks of dead holders are taken over). */
async function withStartLock(dataDir, timeoutMs, fn) {
  const lockFile = path.join(dataDir, 'start.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = readPid(lockFile);
    if (holder === null || !isAlive(holder)) {
      // Dead holder, or a file caught between create and write: only steal
      // the lock once it stays unreadable/dead across a short pause.
      await sleep(200);
      const again = readPid(lockFile);
      if (again === holder && (again === null || !isAlive(again))) fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for another Kafka start (pid ${holder}) holding ${lockFile}.`);
    }
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

async function waitUntilReady({ brokers, pid, logFile, readyTimeoutMs }) {
  const started = Date.now();
  for (;;) {
    if (await isKafkaUp(brokers, 2000)) return;
    if (!isAlive(pid)) {
      throw new Error(
        `Kafka broker (pid ${pid}) exited before becoming ready on ${brokers}. ` +
          `Log ${logFile}:\n${readTail(logFile)}`,
      );
    }
    if (Date.now() - started > readyTimeoutMs) {
      throw new Error(
        `Kafka broker (pid ${pid}) not ready on ${brokers} after ${readyTimeoutMs} ms. ` +
          `Log ${logFile}:\n${readTail(logFile)}`,
      );
    }
    await sleep(POLL_MS);
  }
}

function stopOptions(opts = {}) {
  const repoRoot = opts.repoRoot ?? DEFAULT_REPO_ROOT;
  const port = opts.port ?? 9092;
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir(port, repoRoot));
  return { port, dataDir, pidFile: path.join(dataDir, PID_FILE) };
}

async function finishStop(port, pid) {
  if (!(await waitForPortFree(port))) {
    throw new Error(`Kafka (pid ${pid}) stopped, but port ${port} still accepts connections.`);
  }
}

/**
 * Stops the broker recorded in <dataDir>/broker.pid: SIGTERM (controlled
 * shutdown), SIGKILL after 30 s. Resolves true if a broker was stopped.
 */
async function stopKafka(opts = {}) {
  const { port, dataDir, pidFile } = stopOptions(opts);
  const pid = livePid(dataDir);
  if (!pid) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* exited meanwhile */
  }
  if (!(await waitForExit(pid, 30_000))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
    await waitForExit(pid, 10_000);
  }
  fs.rmSync(pidFile, { force: true });
  await finishStop(port, pid);
  return true;
}

/** SIGKILLs the broker (no controlled shutdown), for failure tests. */
async function killKafkaHard(opts = {}) {
  const { port, dataDir, pidFile } = stopOptions(opts);
  const pid = livePid(dataDir);
  if (!pid) return false;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* exited meanwhile */
  }
  await waitForExit(pid, 10_000);
  fs.rmSync(pidFile, { force: true });
  await finishStop(port, pid);
  return true;
}

module.exports = {
  ensureKafkaJars,
  startKafka,
  stopKafka,
  killKafkaHard,
  isKafkaUp,
};
