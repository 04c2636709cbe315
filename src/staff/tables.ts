import type { ColumnType, Generated } from 'kysely';

/**
 * Staff of the one-stop organisation and of partner organisations. Roles are scoped to the staff member's
 * organisation: agent, editor, reviewer, partner, manager, auditor, admin, board (the governance board, which
 * approves agreements and ranks proposed services).
 */
export interface StaffUsersTable {
  id: string;
  email: string;
  name: string;
  org_id: string;
  roles: ColumnType<string[], string[], string[]>;
  /** Subject at the identity provider (OIDC), when signed in that way. */
  oidc_subject: string | null;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  is_demo: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Generated<Date>;
}

export interface StaffTables {
  staff_users: StaffUsersTable;
}

export const STAFF_ROLES = ['agent', 'editor', 'reviewer', 'partner', 'manager', 'auditor', 'admin', 'board'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
