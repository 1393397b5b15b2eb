/** The thread that writes the gateway's ledger batches, so a commit never stalls a request. */
import { parentPort, workerData } from "node:worker_threads";
import { openBatchWriter, type QueuedEvent } from "./sqlite-store.ts";

const { path, written } = workerData as { path: string; written: SharedArrayBuffer };
const count = new Int32Array(written);
const port = parentPort as NonNullable<typeof parentPort>;
const writer = openBatchWriter(path, (err) => port.postMessage({ error: err.message }));

port.on("message", (batch: QueuedEvent[] | "close") => {
  if (batch === "close") {
    writer.close();
    return void port.close();
  }
  writer.write(batch);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
});
