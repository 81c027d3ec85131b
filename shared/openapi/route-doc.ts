import type { MiddlewareHandler } from 'hono';
import type { RouterRoute } from 'hono/types';
import { COMPOSED_HANDLER } from 'hono/utils/constants';
import type * as v from 'valibot';
import type { ResponseDoc } from './responses.ts';

/**
 * What the OpenAPI document says of one route, written beside its handler.
 * What follows from the route's parts is added by the document: `events` and
 * `query` their 400 (and 413 and 415), a key (RouteGuard) the security and a 401.
 */
export type RouteDoc = {
  summary: string;
  /** The query parameters: the schema the handler parses them with, each entry's description its own. */
  query?: v.ObjectSchema<v.ObjectEntries, undefined>;
  /** Each path parameter's description. */
  params?: Record<string, string>;
  /** The request body: events (shared/http/read-events.ts), by media type (responses.ts eventsBody). */
  events?: Record<string, v.GenericSchema>;
  responses: Record<number, ResponseDoc>;
};

/** What a middleware says of every route it guards: `key`, it takes a key when keys are configured. */
export type RouteGuard = { key?: boolean };

const DOC = Symbol('route doc');

type Described = MiddlewareHandler & { [DOC]?: Partial<RouteDoc> & RouteGuard };

/**
 * Marks a middleware with what it says of every route it guards, for the document.
 *
 * @example return documents(function requireApiKey(c, next) { ...; return next(); }, { key: true })
 */
export function documents(middleware: MiddlewareHandler, doc: Partial<RouteDoc> & RouteGuard): MiddlewareHandler {
  return Object.assign(middleware, { [DOC]: doc });
}

/**
 * The description of a route, as a middleware placed before its handler (it only
 * passes the request on), so that the document reads it from the app's routes.
 *
 * @example app.get('/stats', describeRoute({ summary: 'the counters', responses: { 200: json('the counters', Stats) } }), handler)
 */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  // Not async: a pass-through that only returns next()'s promise adds no promise of its own to every request.
  return documents(function describedRoute(_c, next) {
    return next();
  }, doc);
}

/** The handler as written: `app.route()` wraps a sub-app's handlers in its error handler. */
function original(handler: unknown): Described {
  const inner = (handler as Record<string, unknown>)[COMPOSED_HANDLER];
  return inner ? original(inner) : (handler as Described);
}

/** A route of a Hono app, as `app.routes` lists it. */
export type AppRoute = RouterRoute;

/**
 * The description of each route of `routes`, by method and path: its
 * describeRoute() and what its other middleware add. Middleware for every
 * method (`ALL`) is not a route; a route with no describeRoute() is an error,
 * so that no route goes undocumented.
 */
export function describedRoutes(routes: readonly AppRoute[]): Array<{ method: string; path: string; doc: RouteDoc & RouteGuard }> {
  const found = new Map<string, { method: string; path: string; doc: Partial<RouteDoc> & RouteGuard }>();
  for (const route of routes) {
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path}`;
    const entry = found.get(key) ?? { method: route.method, path: route.path, doc: {} };
    entry.doc = { ...entry.doc, ...original(route.handler)[DOC] };
    found.set(key, entry);
  }
  return [...found.values()].map(({ method, path, doc }) => {
    if (doc.summary === undefined || doc.responses === undefined) throw new Error(`${method} ${path} has no describeRoute()`);
    return { method, path, doc: { ...doc, summary: doc.summary, responses: doc.responses } };
  });
}
