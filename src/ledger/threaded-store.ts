/**
 * The ledger with its writes on a worker thread: appends are queued and batched as in sqlite-store.ts, but
 * each batch's transaction runs on the worker, so a slow disk never stalls the caller's event loop. Reads
 * stay on the caller's thread and first wait until every earlier batch is written. For the gateway, where
 * a commit on the request thread showed in every percentile above the 98th.
 */
import { Worker } from "node:worker_threads";
import { FlotillaError } from "../errors.ts";
import { type BatchSink, openSqliteStore, reportOnce, type SqliteStoreOptions } from "./sqlite-store.ts";
import type { Store } from "./store.ts";

const SETTLE_TIMEOUT_MS = 10_000;

export function openThreadedSqliteStore(path: string, options: Omit<SqliteStoreOptions, "sink"> = {}): Store {
  const onError = options.onError ?? reportOnce();
  const written = new SharedArrayBuffer(4);
  const count = new Int32Array(written);
  let posted = 0;
  let worker: Worker | undefined;
  const sink: BatchSink = {
    write(batch) {
      worker ??= startWorker();
      posted++;
      worker.postMessage(batch);
    },
    settle() {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      for (let seen = Atomics.load(count, 0); seen < posted; seen = Atomics.load(count, 0)) {
        if (Date.now() > deadline) return; // a wedged writer must not hang a read forever
        Atomics.wait(count, 0, seen, 100);
      }
    },
    close() {
      sink.settle();
      worker?.postMessage("close");
      worker?.unref();
    },
  };
  function startWorker(): Worker {
    const started = new Worker(new URL("./ledger-writer-worker.ts", import.meta.url), {
      workerData: { path, written },
    });
    started.unref();
    started.on("message", (message: { error?: string }) => {
      if (message.error) onError(new FlotillaError("FLOTILLA_E_STATE", message.error));
    });
    started.on("error", (err) =>
      onError(new FlotillaError("FLOTILLA_E_STATE", `${path}: the ledger writer stopped (${err.message})`)),
    );
    return started;
  }
  // This thread's connection opens (and migrates) the file before the worker's first batch.
  return openSqliteStore(path, { ...options, onError, sink });
}
