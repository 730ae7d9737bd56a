// A TCP proxy on loopback between a client and the API, for end-to-end tests:
// it records every byte both ways (HTTP bodies and WebSocket frames alike),
// can cut every connection and refuse new ones until restored (a socket that
// drops), and can rewrite bytes of the API's answers in place (an API that
// alters what it forwards).
import { createServer, connect, type Server, type Socket } from "node:net";

export class TcpProxy {
  /** Everything clients sent and received, in order. */
  readonly sent: Buffer[] = [];
  readonly received: Buffer[] = [];
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  /** Applied to each chunk the API sends back; must keep its length (Content-Length, frame lengths). */
  rewrite: ((chunk: Buffer) => Buffer) | null = null;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetUrl: string): Promise<TcpProxy> {
    const target = new URL(targetUrl);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("proxy has no port");
    const proxy = new TcpProxy(server, address.port);
    server.on("connection", (client) => proxy.accept(client, target));
    return proxy;
  }

  /** The proxy's origin, to put in place of the API's. */
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, target: URL) {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.on("data", (chunk: Buffer) => {
      this.sent.push(Buffer.from(chunk));
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      const out = this.rewrite ? this.rewrite(chunk) : chunk;
      if (out.length !== chunk.length) throw new Error("a rewrite must keep the length");
      this.received.push(Buffer.from(out));
      client.write(out);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  }

  /** Every open connection drops, and new ones are refused, until restore(). */
  cut() {
    this.refusing = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore() {
    this.refusing = false;
  }

  /** All recorded traffic, both ways, as one buffer. */
  traffic(): Buffer {
    return Buffer.concat([...this.sent, ...this.received]);
  }

  async stop() {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
