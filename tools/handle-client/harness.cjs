'use strict';
/**
 * The Handle System's Java client (net.handle:handle-client, from Maven Central) driven from
 * Node tests: jars fetched once through tools/handle-client/pom.xml into
 * <repoRoot>/.cache/handle-client/libs, HandleHarness.java compiled once (again when it changes),
 * then one long-running JVM answering JSON lines. Plain CommonJS like tools/kafka/broker.cjs.
 */
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const DEFAULT_REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOURCE = path.join(__dirname, 'HandleHarness.java');
const POM = path.join(__dirname, 'pom.xml');

function cacheDir(repoRoot) {
  return path.join(repoRoot, '.cache', 'handle-client');
}

function sourceHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(SOURCE)).update(fs.readFileSync(POM)).digest('hex').slice(0, 16);
}

/** Fetches the jars and compiles the harness unless already done for this source; returns the classpath. */
function ensureHandleClient(repoRoot = DEFAULT_REPO_ROOT) {
  const dir = cacheDir(repoRoot);
  const libs = path.join(dir, 'libs');
  const classes = path.join(dir, `classes-${sourceHash()}`);
  const libsMarker = path.join(libs, '.complete');
  if (!fs.existsSync(libsMarker)) {
    try {
      execFileSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      throw new Error(`Fetching net.handle:handle-client with Maven failed (mvn on PATH, Maven Central reachable?): ${String(err.stdout ?? '').slice(-2000)}${String(err.stderr ?? '').slice(-2000)}`);
    }
    fs.writeFileSync(libsMarker, new Date().toISOString());
  }
  const classpath = fs
    .readdirSync(libs)
    .filter((f) => f.endsWith('.jar'))
    .map((f) => path.join(libs, f))
    .join(path.delimiter);
  if (!fs.existsSync(path.join(classes, 'HandleHarness.class'))) {
    fs.mkdirSync(classes, { recursive: true });
    try {
      execFileSync('javac', ['-nowarn', '-cp', classpath, '-d', classes, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      fs.rmSync(classes, { recursive: true, force: true });
      throw new Error(`Compiling HandleHarness.java failed: ${String(err.stderr ?? err.message)}`);
    }
  }
  return [classes, classpath].join(path.delimiter);
}

/** Starts the harness JVM; `request(obj)` sends one request and resolves with its answer. */
async function startHandleClient({ repoRoot = DEFAULT_REPO_ROOT, timeoutMs = 15000 } = {}) {
  const classpath = ensureHandleClient(repoRoot);
  const jvm = spawn('java', ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-cp', classpath, 'HandleHarness'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  jvm.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
  const pending = new Map();
  let nextId = 1;
  let exited = false;
  readline.createInterface({ input: jvm.stdout }).on('line', (line) => {
    let answer;
    try {
      answer = JSON.parse(line);
    } catch {
      return;
    }
    const waiting = pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id);
    clearTimeout(waiting.timer);
    waiting.resolve(answer);
  });
  jvm.on('exit', (code) => {
    exited = true;
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(new Error(`The Handle client JVM exited (${code}): ${stderr}`));
    }
    pending.clear();
  });
  return {
    request(body) {
      if (exited) return Promise.reject(new Error(`The Handle client JVM is not running: ${stderr}`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`The Handle client did not answer ${body.op} within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        jvm.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
      });
    },
    async close() {
      if (exited) return;
      jvm.stdin.end();
      await new Promise((resolve) => {
        const kill = setTimeout(() => jvm.kill('SIGKILL'), 3000);
        jvm.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
      });
    },
  };
}

module.exports = { ensureHandleClient, startHandleClient };
