/** What the CLI and a local deployment's daemon say to each other: the start handshake and the control API. */
import type { LocalFunctionSpec } from '../../lambda-emulator/types.js';

/** With `package: 'image'`: the image a version runs, and the program that runs it. */
export interface DaemonImage {
  /** `localhost/deploy-model-local/<name>:<content hash>`. */
  ref: string;
  /** The image ID the build gave it: a rollback runs this image, whatever the tag names since. */
  id?: string;
  /** `podman` or `docker`. */
  builder: string;
}

/**
 * A function spec that survives JSON: everything but the log callback. With `image`, the daemon
 * runs that image against the Runtime API instead of the zip (no codeZip or layers then).
 */
export type DaemonFunctionSpec = Omit<LocalFunctionSpec, 'log' | 'io'> & { image?: DaemonImage };

/** Sent once over IPC when the daemon starts. */
export interface DaemonStart {
  type: 'start';
  /** The stable Function URL's port; 0 picks a free one, kept for the daemon's life. */
  port: number;
  /** Where the daemon's control server listens (a Unix socket only this user can reach). */
  socket: string;
  logFile: string;
  /** The log is rotated to `<logFile>.1` above this size. */
  logCapBytes: number;
}

export type DaemonStartReply =
  | { type: 'ready'; url: string; port: number }
  | { type: 'failed'; error: { code?: string; message: string } };

export interface DaemonVersion {
  version: string;
  /** The function's own Function URL (the candidate's, for its smoke test). */
  url: string;
  /** ISO time it started. */
  since: string;
  /** The init error the function reported, if any (the first request answers it). */
  initError?: string;
  /** The settings it runs with, for `diff`. */
  settings: { memoryMb: number; timeoutSeconds: number; env: Record<string, string> };
  /** Requests the stable URL handed it (all of them once it serves; a traffic step's share before). */
  frontRequests?: number;
  /** The emulator's figures for it (peak memory, init times, warnings), read when the state is asked for. */
  stats?: Record<string, unknown>;
}

/** `GET /state`, and the answer of every control call. */
export interface DaemonState {
  pid: number;
  /** The stable Function URL: it serves `current`. */
  url: string;
  port: number;
  current?: DaemonVersion;
  candidate?: DaemonVersion;
  /** A traffic step: the share of the stable URL's requests the candidate answers; absent when `current` answers all. */
  split?: { candidatePercent: number };
  logFile: string;
}

/** `POST /stage`: start a candidate beside the current version (a candidate already there is stopped first). */
export interface StageRequest {
  spec: DaemonFunctionSpec;
  version: string;
}

/** `POST /shift`: the stable URL sends `percent` % of its requests to the candidate, the rest to `current` (0 takes the share back). */
export interface ShiftRequest {
  percent: number;
  /**
   * The deploying process: should it die mid-rollout, the daemon takes the share back itself, so
   * a killed deploy never leaves part of the traffic on an unchecked version.
   * @default - the share stays until the next control call
   */
  ownerPid?: number;
}

/** An error the control API answers, with a status and the code of the DeployModelError behind it. */
export interface ControlError {
  error: string;
  code?: string;
}
