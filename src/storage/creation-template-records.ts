/**
 * D1 access to repository creation templates (src/repository/creation-templates.ts): read by the
 * repository's Durable Object when it creates a repository, written by the ECR template actions.
 */
import { asc, count, eq } from "drizzle-orm";
import type { Database } from "./database";
import { repositoryCreationTemplates, type RepositoryCreationTemplateRow } from "./schema";

export async function listCreationTemplates(db: Database): Promise<RepositoryCreationTemplateRow[]> {
  return db.select().from(repositoryCreationTemplates).orderBy(asc(repositoryCreationTemplates.prefix));
}

/** Inserts the template unless its prefix exists or `limit` templates exist; one batch. */
export async function insertCreationTemplate(
  db: Database,
  row: RepositoryCreationTemplateRow,
  limit: number,
): Promise<"created" | "exists" | "limit"> {
  const [existing, total] = await db.batch([
    db
      .select({ prefix: repositoryCreationTemplates.prefix })
      .from(repositoryCreationTemplates)
      .where(eq(repositoryCreationTemplates.prefix, row.prefix)),
    db.select({ total: count() }).from(repositoryCreationTemplates),
  ]);
  if (existing.length > 0) return "exists";
  if ((total[0]?.total ?? 0) >= limit) return "limit";
  const inserted = await db
    .insert(repositoryCreationTemplates)
    .values(row)
    .onConflictDoNothing()
    .returning({ prefix: repositoryCreationTemplates.prefix });
  return inserted.length > 0 ? "created" : "exists";
}

/** Replaces the template's settings (keeping its creation time); the row, or undefined when absent. */
export async function updateCreationTemplate(
  db: Database,
  row: RepositoryCreationTemplateRow,
): Promise<RepositoryCreationTemplateRow | undefined> {
  const { prefix, createdAt: _createdAt, ...settings } = row;
  const updated = await db
    .update(repositoryCreationTemplates)
    .set(settings)
    .where(eq(repositoryCreationTemplates.prefix, prefix))
    .returning();
  return updated[0];
}

export async function deleteCreationTemplate(
  db: Database,
  prefix: string,
): Promise<RepositoryCreationTemplateRow | undefined> {
  const removed = await db
    .delete(repositoryCreationTemplates)
    .where(eq(repositoryCreationTemplates.prefix, prefix))
    .returning();
  return removed[0];
}
