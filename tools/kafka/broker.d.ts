/**
 * Types for tools/kafka/broker.cjs — a local single-node KRaft Kafka broker
 * (jars from Maven Central, cached in <repoRoot>/.cache/kafka/libs).
 */

export interface RepoOptions {
  /** Repository root; defaults to the repo containing tools/kafka. */
  repoRoot?: string;
}

export interface StartKafkaOptions extends RepoOptions {
  /** PLAINTEXT listener port on 127.0.0.1. Default 9092. */
  port?: number;
  /** KRaft controller listener port. Default port + 1. */
  controllerPort?: number;
  /** Data, config, pid and log directory. Default <repoRoot>/.cache/kafka/data-<port>. */
  dataDir?: string;
  /** Broker log (JVM stdout/stderr). Default <dataDir>/broker.log; the previous one is kept as .prev. */
  logFile?: string;
  /** JVM heap (-Xms/-Xmx) in MiB. Default 512. */
  heapMb?: number;
  /** How long to wait for the broker to answer DescribeCluster. Default 120000. */
  readyTimeoutMs?: number;
}

export interface StartKafkaResult {
  /** Bootstrap servers, e.g. "127.0.0.1:9092". */
  brokers: string;
  /** false when an already running broker was reused. */
  started: boolean;
  /** JVM pid when known (always set when started is true). */
  pid?: number;
}

export interface StopKafkaOptions extends RepoOptions {
  /** Default 9092. */
  port?: number;
  /** Default <repoRoot>/.cache/kafka/data-<port>. */
  dataDir?: string;
}

/**
 * Fetches the broker jars with Maven unless already cached (marker file +
 * pom.xml hash). Resolves with the libs directory; rejects with the Maven
 * output tail on failure.
 */
export function ensureKafkaJars(options?: RepoOptions): Promise<string>;

/**
 * Starts a detached broker+controller on 127.0.0.1:port, or reuses one that
 * already answers there. Resolves once it answers DescribeCluster; rejects
 * with the log tail if the JVM exits early or readyTimeoutMs passes.
 */
export function startKafka(options?: StartKafkaOptions): Promise<StartKafkaResult>;

/**
 * Stops the broker recorded in <dataDir>/broker.pid (SIGTERM, SIGKILL after
 * 30 s) and waits until the port is free. Resolves true if one was stopped.
 */
export function stopKafka(options?: StopKafkaOptions): Promise<boolean>;

/** SIGKILLs the broker recorded in <dataDir>/broker.pid (failure tests). */
export function killKafkaHard(options?: StopKafkaOptions): Promise<boolean>;

/**
 * True if a Kafka broker at `brokers` ("host:port[,host:port]") answers
 * DescribeCluster within timeoutMs (default 3000). Never rejects.
 */
export function isKafkaUp(brokers: string, timeoutMs?: number): Promise<boolean>;
