// A graphql-transport-ws client at the message level, for what the official
// client hides: the upgrade's HTTP status, pipelined messages, close codes.
import WebSocket from "ws";

export type Message = { type: string; id?: string; payload?: any };

export class RawSocket {
  readonly messages: Message[] = [];
  closeCode: number | null = null;
  closeReason = "";
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.messages.push(JSON.parse(String(data)) as Message);
      this.wake();
    });
    socket.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      this.wake();
    });
  }

  /**
   * Opens a socket to `apiUrl`/graphql; resolves to it, or to the HTTP status
   * of a refused upgrade.
   */
  static open(
    apiUrl: string,
    { headers = {}, localAddress }: { headers?: Record<string, string>; localAddress?: string } = {},
  ): Promise<{ socket: RawSocket; status?: undefined } | { socket?: undefined; status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${apiUrl.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", { headers, localAddress });
      socket.once("open", () => resolve({ socket: new RawSocket(socket) }));
      socket.once("unexpected-response", (request, response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          request.destroy();
          resolve({ status: response.statusCode ?? 0, body });
        });
      });
      socket.once("error", reject);
    });
  }

  /** Opens a socket that must be accepted, and acknowledged for `connectionParams`. */
  static async connect(apiUrl: string, connectionParams: Record<string, unknown> = {}, options: Parameters<typeof RawSocket.open>[1] = {}) {
    const opened = await RawSocket.open(apiUrl, options);
    if (!opened.socket) throw new Error(`upgrade refused with ${opened.status}: ${opened.body}`);
    const acknowledged = await opened.socket.init(connectionParams);
    if (!acknowledged) throw new Error(`connection_init refused: ${opened.socket.closeCode} ${opened.socket.closeReason}`);
    return opened.socket;
  }

  private wake() {
    for (const waiter of this.waiters) waiter();
  }

  send(message: Message) {
    this.socket.send(JSON.stringify(message));
  }

  /** Sends connection_init; true once acknowledged, false if the server closed instead. */
  async init(payload: Record<string, unknown> = {}): Promise<boolean> {
    this.send({ type: "connection_init", payload });
    await this.until(() => this.closeCode !== null || this.messages.some((m) => m.type === "connection_ack"), "connection_ack or close");
    return this.closeCode === null;
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}) {
    this.send({ id, type: "subscribe", payload: { query, variables } });
  }

  of(id: string) {
    return this.messages.filter((message) => message.id === id);
  }

  ofType(type: string) {
    return this.messages.filter((message) => message.type === type);
  }

  /** Waits (at most a generous `timeoutMs`) until `done()` holds. */
  until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`Timed out waiting for ${what}; close ${this.closeCode}; last messages: ${JSON.stringify(this.messages.slice(-5))}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** A ping answered by a pong: the socket is open and its messages are being handled. */
  async roundTrip() {
    const before = this.ofType("pong").length;
    this.send({ type: "ping" });
    await this.until(() => this.ofType("pong").length > before, "pong");
  }

  close() {
    if (this.closeCode === null) this.socket.close(1000);
    return this.until(() => this.closeCode !== null, "close");
  }
}
