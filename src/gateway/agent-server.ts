/**
 * The gateway's HTTP server for agents' calls: node:http, so llhttp parses every request and node's own
 * deadlines, header size cap and pipelining back-pressure apply. The limits come from gateway config.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { declaredOverCap } from "./request-body.ts";

export interface AgentServerLimits {
  /** A request head must be whole within this long (ms), or the connection is closed. */
  headersTimeout: number;
  /** The whole request, head and body, must be in within this long (ms); answers are not timed. */
  requestTimeout: number;
  /** An idle keep-alive connection is closed after this long (ms); answers announce it. */
  keepAliveTimeout: number;
  /** Connections open at once; one past the cap is closed as it arrives. */
  maxConnections: number;
  /** Bodies over this many bytes are refused with 413 (see request-body.ts). */
  maxBodySize: number;
}

export type AgentHandler = (req: IncomingMessage, res: ServerResponse) => void;

// node:http looks for connections past their header or request deadline this often (its default is 30 s,
// which would let a slowloris connection outlive a short headersTimeout by half a minute).
const DEADLINE_CHECK_MS = 1_000;

/**
 * The listen backlog for a connection cap: the kernel's accept queue holds a burst up to the cap (node's
 * default is 511). Past a full queue, Linux drops the handshake's last ACK and the client, which believes
 * it is connected, waits out SYN-ACK retries (1 s, 3 s, 7 s) before the gateway even sees it.
 */
export function listenBacklog(maxConnections: number): number {
  return Math.max(511, maxConnections);
}

function closeIfSilent(socket: Socket): void {
  if (socket.bytesRead === 0) socket.destroy();
}

/** A node:http server (not listening yet) that hands each request to `handler`. */
export function createAgentServer(handler: AgentHandler, limits: AgentServerLimits): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      connectionsCheckingInterval: Math.min(DEADLINE_CHECK_MS, limits.headersTimeout),
      noDelay: true,
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  // node:http times a head from its first byte: a connection that never sends one would stay open for good.
  server.on("connection", (socket: Socket) => {
    const timer = setTimeout(closeIfSilent, limits.headersTimeout, socket).unref();
    socket.once("close", () => clearTimeout(timer));
  });
  // Expect: 100-continue: the 100 goes out only for a body the cap allows; a larger one gets the 413 at once.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!declaredOverCap(req, limits.maxBodySize)) res.writeContinue();
    handler(req, res);
  });
  return server;
}
