/** The authenticated caller, as the guards attach it to the request. */
export interface AuthUser {
  id: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guards: the viewer, or undefined for an anonymous caller on an optional-auth route. */
    user?: AuthUser;
  }
}
