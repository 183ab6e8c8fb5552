// The admin console's endpoints under /.trustgate/: routes (list, form, preview, save, delete), config
// history and rollback, recent decisions, break-glass grants and signing users out. Every name starts
// with "admin", so the gateway serves them only on admin.host (see http/admin-host.ts).
import type { Endpoints } from '../pipeline/internal-endpoints.ts';
import { revokeGrant, showGrants } from './grants-page.ts';
import { previewRoute, routeForm, showRoutes } from './routes-pages.ts';
import { deleteRoute, rollback, saveRoute } from './route-changes.ts';
import { showDecisions, showHistory } from './history-pages.ts';
import { revokeUserSessions, showSessions } from './sessions-page.ts';

export const adminEndpoints: Endpoints = {
  'admin/grants': { methods: ['GET'], handle: showGrants },
  'admin/grants/revoke': { methods: ['POST'], handle: revokeGrant },
  admin: { methods: ['GET'], handle: showRoutes },
  'admin/routes/edit': { methods: ['GET', 'POST'], handle: routeForm },
  'admin/routes/preview': { methods: ['POST'], handle: previewRoute },
  'admin/routes/save': { methods: ['POST'], handle: saveRoute },
  'admin/routes/delete': { methods: ['POST'], handle: deleteRoute },
  'admin/history': { methods: ['GET'], handle: showHistory },
  'admin/history/rollback': { methods: ['POST'], handle: rollback },
  'admin/decisions': { methods: ['GET'], handle: showDecisions },
  'admin/sessions': { methods: ['GET'], handle: showSessions },
  'admin/sessions/revoke': { methods: ['POST'], handle: revokeUserSessions },
};
