// A TEST STAND-IN for mongod: a TCP server on 127.0.0.1 that speaks just enough of the MongoDB wire protocol
// (the legacy OP_QUERY handshake answered by OP_REPLY, then OP_MSG commands) for the real `mongodb` driver
// to connect and run commands against it. No MongoDB server can be installed where the suite runs, so this
// checks how OUR code handles server replies through the real driver (handshake, standalone refusal, error
// codes, the options it sends); it knows nothing of MongoDB's semantics: every reply is scripted by a test.
import net from 'node:net';
import { BSON, Long, type Document } from 'mongodb';

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago): a mongod that is not there. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const HEADER_BYTES = 16;
const CHECKSUM_PRESENT = 1 << 0;
/** The client expects no reply (e.g. endSessions with w: 0). */
const MORE_TO_COME = 1 << 1;

/** A command as received: its name, the database it ran on, and the whole command document. */
export interface ReceivedCommand {
  name: string;
  db: string;
  command: Document;
}

/** A scripted reply: a fixed document, or one computed from the command. */
export type Reply = Document | ((received: ReceivedCommand) => Document);

/** The handshake reply of a server at `address` (host:port, known once listening). */
export type HelloReply = (address: string) => Document;

const SERVER_LIMITS = {
  maxBsonObjectSize: 16777216,
  maxMessageSizeBytes: 48000000,
  maxWriteBatchSize: 100000,
  logicalSessionTimeoutMinutes: 30,
  connectionId: 1,
  minWireVersion: 0,
  maxWireVersion: 21,
  readOnly: false,
};

/** A standalone mongod: no `setName`, so no multi-document transactions. */
export const standaloneHello: HelloReply = () => ({
  ok: 1,
  isWritablePrimary: true,
  ismaster: true,
  helloOk: true,
  localTime: new Date(),
  ...SERVER_LIMITS,
});

/** The primary of a one-member replica set. */
export function replicaSetHello(setName: string): HelloReply {
  return (address) => ({
    ...standaloneHello(address),
    setName,
    setVersion: 1,
    hosts: [address],
    me: address,
    primary: address,
    secondary: false,
  });
}

/** A cursor reply with everything in the first batch (cursor id 0: no getMore follows). */
export function cursorReply(ns: string, docs: Document[]): Document {
  return { ok: 1, cursor: { id: Long.fromNumber(0), ns, firstBatch: docs } };
}

export class FakeMongod {
  /** Every command received, in order, handshakes included. */
  readonly commands: ReceivedCommand[] = [];
  private readonly answers = new Map<string, Reply>();
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((socket) => this.accept(socket));

  private constructor(private readonly hello: HelloReply) {}

  static async start(hello: HelloReply = standaloneHello): Promise<FakeMongod> {
    const fake = new FakeMongod(hello);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** A connection string for the fake; directConnection keeps the driver from looking for other members. */
  url(database = 'hms'): string {
    return `mongodb://${this.address}/${database}?directConnection=true`;
  }

  /** Scripts the reply to every later command of this name (replacing an earlier script). */
  answer(name: string, reply: Reply): void {
    this.answers.set(name, reply);
  }

  named(name: string): ReceivedCommand[] {
    return this.commands.filter((received) => received.name === name);
  }

  /** Resolves once every client connection has closed (fails the test by timeout otherwise). */
  async disconnected(): Promise<void> {
    while (this.sockets.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      // A message may arrive split over several chunks, or several in one chunk.
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const reply = this.handle(pending.subarray(0, length));
        if (reply === null) return void socket.destroy();
        if (reply) socket.write(reply);
        pending = pending.subarray(length);
      }
    });
  }

  /** The reply to one whole message; undefined when the client expects none, null for an unknown opCode. */
  private handle(message: Buffer): Buffer | undefined | null {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) return opReply(requestId, this.reply(parseQuery(message), true));
    if (opCode === OP_MSG) {
      const flags = message.readUInt32LE(HEADER_BYTES);
      const reply = this.reply(parseMsg(message, flags), false);
      return flags & MORE_TO_COME ? undefined : opMsg(requestId, reply);
    }
    return null;
  }

  private reply(received: ReceivedCommand, handshake: boolean): Document {
    this.commands.push(received);
    const scripted = handshake ? undefined : this.answers.get(received.name);
    if (scripted) return typeof scripted === 'function' ? scripted(received) : scripted;
    if (/^(hello|ismaster)$/i.test(received.name)) return this.hello(this.address);
    return { ok: 1 };
  }
}

/** OP_QUERY: flags, full collection name (`db.$cmd`), skip, limit, then the command document. */
function parseQuery(message: Buffer): ReceivedCommand {
  const nameStart = HEADER_BYTES + 4;
  const nameEnd = message.indexOf(0, nameStart);
  const collection = message.toString('utf8', nameStart, nameEnd);
  const command = readDocument(message, nameEnd + 1 + 8);
  return { name: Object.keys(command)[0], db: collection.split('.')[0], command };
}

/**
 * OP_MSG: flags, then sections: kind 0 is the command document; kind 1 is a document sequence (size,
 * identifier, documents), gathered into the command under its identifier as the server does.
 */
function parseMsg(message: Buffer, flags: number): ReceivedCommand {
  const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
  let command: Document = {};
  const sequences: Document = {};
  for (let offset = HEADER_BYTES + 4; offset < end;) {
    const kind = message[offset];
    if (kind === 0) {
      command = readDocument(message, offset + 1);
      offset += 1 + message.readInt32LE(offset + 1);
    } else {
      const size = message.readInt32LE(offset + 1);
      const idEnd = message.indexOf(0, offset + 5);
      sequences[message.toString('utf8', offset + 5, idEnd)] = readSequence(message, idEnd + 1, offset + 1 + size);
      offset += 1 + size;
    }
  }
  return { name: Object.keys(command)[0], db: String(command.$db), command: { ...command, ...sequences } };
}

function readSequence(message: Buffer, start: number, end: number): Document[] {
  const docs: Document[] = [];
  for (let offset = start; offset < end; offset += message.readInt32LE(offset)) {
    docs.push(readDocument(message, offset));
  }
  return docs;
}

function readDocument(message: Buffer, offset: number): Document {
  return BSON.deserialize(message.subarray(offset, offset + message.readInt32LE(offset)));
}

function header(length: number, responseTo: number, opCode: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeInt32LE(length, 0);
  bytes.writeInt32LE(0, 4);
  bytes.writeInt32LE(responseTo, 8);
  bytes.writeInt32LE(opCode, 12);
  return bytes;
}

/** OP_MSG reply: flags 0 and one kind-0 section. */
function opMsg(responseTo: number, reply: Document): Buffer {
  const body = BSON.serialize(reply);
  const prefix = Buffer.alloc(5); // flagBits 0, section kind 0
  return Buffer.concat([header(HEADER_BYTES + 5 + body.length, responseTo, OP_MSG), prefix, body]);
}

/** OP_REPLY: responseFlags, cursorID 0, startingFrom 0, numberReturned 1, then the document. */
function opReply(responseTo: number, reply: Document): Buffer {
  const body = BSON.serialize(reply);
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_BYTES + 20 + body.length, responseTo, OP_REPLY), fields, body]);
}
