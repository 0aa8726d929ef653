// Structured logs: one JSON object per line on stderr. Callers pass event names and plain
// fields; secrets (passwords, session ids, keys, assertions) are never passed in.

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createJsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)) {
  const emit = (level: string, event: string, fields: LogFields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  };
  const logger: Logger = {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
  return logger;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
