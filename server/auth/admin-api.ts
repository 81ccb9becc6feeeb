// The admin REST API under /admin: the same operations as `hms client|user|keys`, for the manager app. Only a
// token carrying the `admin` scope (an administrator's login, or a backend client registered with it) may call
// it; every answer is JSON, every refusal a precise 4xx.
import express, {
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { AccessContext } from '../../resources/access';
import type { BearerTokens } from './bearer';
import { ClientError, type Client } from './clients';
import type { AuthService } from './service';
import { UserError, type User } from './users';

const JSON_LIMIT = '256kb';

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type AdminAudit = (access: AccessContext, action: string, outcome: 'success' | 'failure') => Promise<void>;

/** Wraps a route's work: its [status, body] is sent as JSON and the action audited as success or failure. */
export type AdminHandle = (action: string, work: (req: Request) => Promise<[number, unknown]>) => RequestHandler;

/** More admin routes (the HL7 bridge's), mounted behind the same admin check, audit and error rendering. */
export type AdminRoutes = (router: Router, handle: AdminHandle) => void;

export function mountAdminApi(
  app: Express,
  auth: AuthService,
  bearer: BearerTokens,
  audit?: AdminAudit,
  more: AdminRoutes[] = [],
): void {
  const router = express.Router();
  router.use(async (req, res, next) => {
    try {
      res.locals.access = await adminAccess(req, bearer);
      next();
    } catch (error) {
      const refused: AccessContext = { actor: 'anonymous', ip: req.socket.remoteAddress };
      await audit?.(refused, `${req.method} ${req.path}`, 'failure').catch(() => undefined);
      next(error);
    }
  });
  router.use(express.json({ limit: JSON_LIMIT }));
  const handle: AdminHandle = (action, work) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const [status, body] = await work(req);
      await audit?.(res.locals.access as AccessContext, action, 'success');
      res.status(status).json(body);
    } catch (error) {
      await audit?.(res.locals.access as AccessContext, action, 'failure');
      next(error);
    }
  };
  router.get(
    '/clients',
    handle('client list', async () => [200, (await auth.clients.list()).map(publicClient)]),
  );
  router.post(
    '/clients',
    handle('client add', async (req) => {
      const body = objectBody(req);
      const { client, secret } = await auth.clients.add({
        id: body.id as string,
        type: body.type as Client['type'],
        redirectUris: body.redirectUris as string[] | undefined,
        jwks: body.jwks as Client['jwks'],
        jwksUrl: body.jwksUrl as string | undefined,
        scope: body.scope as string | undefined,
        launchUrl: body.launchUrl as string | undefined,
      });
      return [201, { client: publicClient(client), ...(secret ? { secret } : {}) }];
    }),
  );
  router.delete(
    '/clients/:id',
    handle('client remove', async (req) => {
      if (!(await auth.clients.remove(String(req.params.id)))) throw new AdminError(404, 'No such client');
      return [200, { removed: req.params.id }];
    }),
  );
  router.get(
    '/users',
    handle('user list', async () => [200, (await auth.users.list()).map(publicUser)]),
  );
  router.post(
    '/users',
    handle('user add', async (req) => {
      const body = objectBody(req);
      const { user, totpUri } = await auth.users.add({
        username: body.username as string,
        role: body.role as string,
        fhirUser: body.fhirUser as string | undefined,
        password: body.password as string,
      });
      return [201, { user: publicUser(user), ...(totpUri ? { totpUri } : {}) }];
    }),
  );
  router.post(
    '/users/:username/disable',
    handle('user disable', async (req) => {
      if (!(await auth.users.setDisabled(String(req.params.username), true))) throw new AdminError(404, 'No such user');
      return [200, { disabled: req.params.username }];
    }),
  );
  router.post(
    '/users/:username/reset-totp',
    handle('user reset-totp', async (req) => {
      const totpUri = await auth.users.resetTotp(String(req.params.username));
      if (!totpUri) throw new AdminError(404, 'No such user');
      return [200, { username: req.params.username, totpUri }];
    }),
  );
  router.post(
    '/keys/rotate',
    handle('keys rotate', async () => [200, { kid: await auth.keys.rotate() }]),
  );
  for (const routes of more) routes(router, handle);
  router.use((_req: Request, _res: Response, next: NextFunction) =>
    next(new AdminError(404, 'No such admin endpoint')),
  );
  router.use(adminErrors);
  app.use('/admin', router);
}

async function adminAccess(req: Request, bearer: BearerTokens): Promise<AccessContext> {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const access = match ? await bearer.accessContext(match[1]) : undefined;
  if (!access) throw new AdminError(401, 'This request needs an access token (Authorization: Bearer)');
  if (!access.admin) throw new AdminError(403, 'The admin API needs the admin scope');
  return { ...access, ip: req.socket.remoteAddress };
}

export function objectBody(req: Request): Record<string, unknown> {
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
    throw new AdminError(400, 'The body must be a JSON object');
  }
  return req.body as Record<string, unknown>;
}

function adminErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (error instanceof AdminError) {
    if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="hms"');
    res.status(error.status).json({ error: error.message });
    return;
  }
  if (error instanceof ClientError || error instanceof UserError) {
    res.status(/exists/.test(error.message) ? 409 : 400).json({ error: error.message });
    return;
  }
  const status = (error as { status?: number })?.status;
  if (status !== undefined && status >= 400 && status < 500) {
    res.status(400).json({ error: 'The request body could not be read as JSON' });
    return;
  }
  next(error);
}

export function publicClient(client: Client): Omit<Client, 'secretHash'> {
  const { secretHash: _hidden, ...rest } = client;
  return rest;
}

export function publicUser(user: User): Record<string, unknown> {
  return {
    username: user.username,
    role: user.role,
    ...(user.fhirUser ? { fhirUser: user.fhirUser } : {}),
    disabled: user.disabled,
    secondFactor: [...(user.totp ? ['totp'] : []), ...(user.passkeys.length > 0 ? ['passkey'] : [])],
  };
}
