import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Principal } from './principal';

export const IS_PUBLIC = 'iip:public';
export const REQUIRED_SCOPES = 'iip:scopes';

/** Deliberately public: health, JWKS, token endpoint, public resolution. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const OPTIONAL_AUTH = 'iip:optional-auth';

/** Anonymous callers are let through; a caller that sends a token must send a valid one. */
export const OptionalAuth = () => SetMetadata(OPTIONAL_AUTH, true);

/** The caller's token must carry every one of these scopes. */
export const RequireScopes = (...scopes: string[]) => SetMetadata(REQUIRED_SCOPES, scopes);

const grpcPrincipals = new WeakMap<object, Principal>();

export function attachPrincipal(carrier: object, principal: Principal): void {
  if (isGrpcMetadata(carrier)) grpcPrincipals.set(carrier, principal);
  else (carrier as { principal?: Principal }).principal = principal;
}

/** The authenticated caller of an HTTP request or gRPC call (set by the auth guard). */
export function principalOf(carrier: object): Principal {
  const p = isGrpcMetadata(carrier) ? grpcPrincipals.get(carrier) : (carrier as { principal?: Principal }).principal;
  if (!p) throw new Error('No principal: the route is public or the auth guard did not run');
  return p;
}

/** The caller, or undefined for an anonymous call to an @OptionalAuth() route. */
export function optionalPrincipalOf(carrier: object): Principal | undefined {
  return isGrpcMetadata(carrier) ? grpcPrincipals.get(carrier) : (carrier as { principal?: Principal }).principal;
}

function isGrpcMetadata(carrier: object): carrier is Metadata {
  return typeof (carrier as Metadata).getMap === 'function' && typeof (carrier as Metadata).get === 'function';
}

export const OptionalPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return optionalPrincipalOf(ctx.switchToHttp().getRequest<object>());
});

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return principalOf(ctx.switchToHttp().getRequest<object>());
});
