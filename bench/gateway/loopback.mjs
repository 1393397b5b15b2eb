// Preloaded into Portkey's gateway (node --import): it has no host flag, so every listen binds 127.0.0.1.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    const callback = args.find((a) => typeof a === "function");
    return listen.call(this, { port: Number(args[0]), host: "127.0.0.1" }, callback);
  }
  if (args[0] && typeof args[0] === "object") args[0] = { ...args[0], host: "127.0.0.1" };
  return listen.apply(this, args);
};
