// Who is acting: every repository carries one AccessContext. The SMART issue fills it from tokens and the
// store queries will filter by it; today it names the actor for logs and, later, the audit trail.
export interface AccessContext {
  /** `anonymous` for unauthenticated HTTP, `system` for internal work, `cli` for the admin command. */
  actor: string;
  requestId?: string;
}

export const SYSTEM_ACCESS: AccessContext = { actor: 'system' };
