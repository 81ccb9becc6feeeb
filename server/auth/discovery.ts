// What the authorization server publishes about itself: the SMART configuration, the OpenID configuration
// and the CapabilityStatement's security section, all from one list of endpoints and capabilities, so the
// three never disagree and advertise only what works.
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import { ASSERTION_ALGS } from './client-auth';
import { SIGNING_ALG } from './keys';
import { CONTEXT_SCOPES } from './scopes';

export interface SmartEndpoints {
  authorize: string;
  token: string;
  introspect: string;
  revoke: string;
  manage: string;
  jwks: string;
  userinfo?: string;
}

/** Where the authorization server lives beside a FHIR base URL: `.../fhir` -> `.../auth`. */
export function authBaseUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/fhir$/, '')}/auth`;
}

/** The endpoints of the authorization server beside a FHIR base URL. */
export function smartEndpoints(baseUrl: string): SmartEndpoints {
  const auth = authBaseUrl(baseUrl);
  return {
    authorize: `${auth}/authorize`,
    token: `${auth}/token`,
    introspect: `${auth}/introspect`,
    revoke: `${auth}/revoke`,
    manage: `${auth}/apps`,
    jwks: `${auth}/jwks`,
  };
}

export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'authorize-post',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-banner',
  'context-style',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
];

/** How clients authenticate at the token endpoint (client-auth.ts). */
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The context scopes (the HMS-only `admin` left out: apps never ask for it) and the resource scope forms. */
const SCOPES_SUPPORTED = [
  ...[...CONTEXT_SCOPES].filter((scope) => scope !== 'admin'),
  ...['patient', 'user', 'system'].flatMap((level) => ['rs', 'cruds', 'read'].map((p) => `${level}/*.${p}`)),
];

export function smartConfiguration(baseUrl: string): Record<string, unknown> {
  const endpoints = smartEndpoints(baseUrl);
  return {
    issuer: baseUrl,
    jwks_uri: endpoints.jwks,
    authorization_endpoint: endpoints.authorize,
    token_endpoint: endpoints.token,
    introspection_endpoint: endpoints.introspect,
    revocation_endpoint: endpoints.revoke,
    management_endpoint: endpoints.manage,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: SCOPES_SUPPORTED,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    capabilities: SMART_CAPABILITIES,
  };
}

export function openidConfiguration(baseUrl: string): Record<string, unknown> {
  const endpoints = smartEndpoints(baseUrl);
  return {
    issuer: baseUrl,
    authorization_endpoint: endpoints.authorize,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
    scopes_supported: ['openid', 'fhirUser', 'profile'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'fhirUser', 'auth_time'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
  };
}

/** CapabilityStatement.rest.security: SMART 1.0 clients read the endpoints from here (oauth-uris). */
export function capabilitySecurity(baseUrl: string): CapabilityStatementRestSecurity {
  const endpoints = smartEndpoints(baseUrl);
  return {
    cors: true,
    service: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
        text: 'OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)',
      },
    ],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: endpoints.authorize },
          { url: 'token', valueUri: endpoints.token },
          { url: 'introspect', valueUri: endpoints.introspect },
          { url: 'revoke', valueUri: endpoints.revoke },
          { url: 'manage', valueUri: endpoints.manage },
        ],
      },
    ],
  };
}
