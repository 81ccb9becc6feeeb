// A software WebAuthn authenticator for API tests (the browser test uses Chromium's virtual one): an ES256
// key, "none" attestation, and the JSON a browser would post, signed over whatever challenge and origin the
// test chooses, so that wrong ones can be sent on purpose.
import crypto from 'node:crypto';

const FLAGS = { userPresent: 0x01, userVerified: 0x04, attested: 0x40 };

export interface Ceremony {
  challenge: string;
  origin: string;
  rpId: string;
}

export class SoftAuthenticator {
  readonly id = crypto.randomBytes(16).toString('base64url');
  private readonly keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;

  /** The RegistrationResponseJSON of navigator.credentials.create(). */
  register({ challenge, origin, rpId }: Ceremony): Record<string, unknown> {
    const clientData = clientDataJson('webauthn.create', challenge, origin);
    const credentialId = Buffer.from(this.id, 'base64url');
    const authData = Buffer.concat([
      authenticatorData(rpId, FLAGS.userPresent | FLAGS.userVerified | FLAGS.attested, this.counter),
      Buffer.alloc(16),
      u16(credentialId.length),
      credentialId,
      this.coseKey(),
    ]);
    const attestationObject = cbor(
      new Map<unknown, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
    };
  }

  /** The AuthenticationResponseJSON of navigator.credentials.get(); the counter goes up unless `sameCounter`. */
  authenticate(
    { challenge, origin, rpId }: Ceremony,
    options: { sameCounter?: boolean } = {},
  ): Record<string, unknown> {
    if (!options.sameCounter) this.counter += 1;
    const clientData = clientDataJson('webauthn.get', challenge, origin);
    const authData = authenticatorData(rpId, FLAGS.userPresent | FLAGS.userVerified, this.counter);
    const signed = Buffer.concat([authData, crypto.createHash('sha256').update(clientData).digest()]);
    const signature = crypto.sign('sha256', signed, this.keys.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
      },
    };
  }

  private coseKey(): Buffer {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    return cbor(
      new Map<unknown, unknown>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
  }
}

function clientDataJson(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

function authenticatorData(rpId: string, flags: number, counter: number): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([crypto.createHash('sha256').update(rpId).digest(), Buffer.from([flags]), count]);
}

function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}

/** The CBOR subset WebAuthn needs: integers, byte and text strings, maps. */
function cbor(value: unknown): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Map) {
    return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  }
  throw new Error(`cbor: unsupported ${typeof value}`);
}

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 256) return Buffer.from([(major << 5) | 24, length]);
  return Buffer.concat([Buffer.from([(major << 5) | 25]), u16(length)]);
}
