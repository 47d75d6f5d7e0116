/**
 * Users and their access keys (`iam:ListUsers` on `*`):
 *   GET  /console/users                                    users (name order, in pages) with
 *                                                          their policies' names and key ids
 *   POST /console/users/<name>/access-keys                 a new key (`iam:CreateAccessKey`):
 *                                                          its secret shown once, never stored
 *                                                          in clear, the page not cached
 *   POST /console/users/<name>/access-keys/<id>/delete     deletes the key (`iam:DeleteAccessKey`)
 *                                                          and ends every console session of
 *                                                          the user
 * Each POST comes from this origin with the session's CSRF token, or is refused (403) before
 * anything changes. Keys are made and stored as the admin API makes them (src/admin/users.ts).
 */
import { Hono } from "hono";
import type { AppContext, AppEnv } from "../../app-env";
import { noteAudit } from "../../audit/capture";
import { peerAccountOf } from "../../auth/principals";
import { issueAccessKey, revokeAccessKey } from "../../auth/access-keys";
import { findUser, listUserNames, type UserRecord } from "../../storage/identity-records";
import { forbiddenPage, notFoundPage, requireSession } from "../auth-pages";
import { CsrfForm, pageHtml } from "../layout";
import type { ConsoleSession } from "../session";
import { ConsoleNav } from "./console-nav";
import { allowedOnRegistry, badRequestPage, checkedForm, registryGate, When, withQuery } from "./registry-shared";

export const userPages = new Hono<AppEnv>();

const PAGE_SIZE = 50;
/** IAM's user names (the admin API's rule): peer accounts (`account:<id>`) never match. */
const USER_NAME = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

function keysPath(user: string): string {
  return `/console/users/${encodeURIComponent(user)}/access-keys`;
}

interface ListedUser {
  record: UserRecord;
  mayCreateKey: boolean;
  mayDeleteKey: boolean;
}

userPages.get("/console/users", async (c) => {
  const session = await registryGate(c, "iam:ListUsers", "list users");
  if (session instanceof Response) return session;
  const db = c.get("db");
  const after = c.req.query("after") ?? "";
  // Peer accounts (replicating registries) are users only in storage: the admin API lists them apart.
  const names = (await listUserNames(db)).filter((name) => peerAccountOf(name) === null && name > after);
  const pageNames = names.slice(0, PAGE_SIZE);
  const users = await Promise.all(
    pageNames.map(async (name): Promise<ListedUser | null> => {
      const record = await findUser(db, name);
      if (record === undefined) return null;
      return {
        record,
        mayCreateKey: await allowedOnRegistry(c, session.principal, "iam:CreateAccessKey", name),
        mayDeleteKey: await allowedOnRegistry(c, session.principal, "iam:DeleteAccessKey", name),
      };
    }),
  );
  const deleted = c.req.query("deleted");
  const lastName = pageNames.at(-1);
  return c.html(
    pageHtml({
      title: "Users",
      session,
      children: (
        <>
          <ConsoleNav current="/console/users" />
          {deleted !== undefined && ACCESS_KEY_ID.test(deleted) ? (
            <p class="notice" role="status">
              {`Access key ${deleted} was deleted; its user's console sessions have ended.`}
            </p>
          ) : null}
          {pageNames.length === 0 ? (
            <p>No users.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Created</th>
                    <th scope="col">Policies</th>
                    <th scope="col">Access keys</th>
                  </tr>
                </thead>
                <tbody>{users.map((user) => (user === null ? null : <UserRow user={user} session={session} />))}</tbody>
              </table>
            </div>
          )}
          <p class="pager">
            {after === "" ? null : <a href="/console/users">First</a>}{" "}
            {names.length > PAGE_SIZE && lastName !== undefined ? (
              <a href={withQuery("/console/users", { after: lastName })}>Next</a>
            ) : null}
          </p>
        </>
      ),
    }),
  );
});

function UserRow(props: { user: ListedUser; session: ConsoleSession }) {
  const { record, mayCreateKey, mayDeleteKey } = props.user;
  return (
    <tr class="user" data-user={record.name}>
      <td>
        <code>{record.name}</code>
      </td>
      <td>
        <When at={record.createdAt} />
      </td>
      <td>
        {record.policies.length === 0 ? <span class="muted">none</span> : record.policies.map((p) => p.name).join(", ")}
      </td>
      <td>
        <ul class="keys">
          {record.accessKeyIds.map((id) => (
            <li data-key={id}>
              <code>{id}</code>
              {id === props.session.accessKeyId ? <span class="muted"> (this session's)</span> : null}
              {mayDeleteKey ? (
                <CsrfForm
                  session={props.session}
                  action={`${keysPath(record.name)}/${encodeURIComponent(id)}/delete`}
                  class="inline"
                >
                  <button type="submit" class="link">
                    Delete
                  </button>
                </CsrfForm>
              ) : null}
            </li>
          ))}
        </ul>
        {mayCreateKey ? (
          <CsrfForm session={props.session} action={keysPath(record.name)} class="inline">
            <button type="submit">Create access key</button>
          </CsrfForm>
        ) : null}
      </td>
    </tr>
  );
}

/**
 * The gate of a key POST: a session, this origin and the CSRF token, a well-formed user name,
 * then the action on that user. The user name, or the response to send.
 */
async function keyChangeGate(
  c: AppContext,
  action: string,
  what: string,
): Promise<{ session: ConsoleSession; user: string } | Response> {
  const session = await requireSession(c);
  if (session instanceof Response) return session;
  if ((await checkedForm(c, session)) === null)
    return forbiddenPage(c, session, "change access keys from another site or without this form's token");
  const user = c.req.param("name") ?? "";
  if (!USER_NAME.test(user)) return badRequestPage(c, session, "That is not a user name.");
  noteAudit(c, { eventName: action, source: "registry-admin", requestParameters: { userName: user } });
  if (!(await allowedOnRegistry(c, session.principal, action, user))) return forbiddenPage(c, session, what);
  return { session, user };
}

userPages.post("/console/users/:name/access-keys", async (c) => {
  const gate = await keyChangeGate(c, "iam:CreateAccessKey", "create access keys for this user");
  if (gate instanceof Response) return gate;
  const { session, user } = gate;
  const db = c.get("db");
  if ((await findUser(db, user)) === undefined) return notFoundPage(c, session, `User ${user}`);
  const key = await issueAccessKey(db, c.var.settings.auth, user);
  c.header("Cache-Control", "no-store");
  return c.html(
    pageHtml({
      title: "New access key",
      session,
      children: (
        <>
          <ConsoleNav current="/console/users" />
          <p class="notice" role="status">
            This is the only time the secret is shown: copy it now. The registry keeps only its hash.
          </p>
          <dl class="new-key">
            <dt>User</dt>
            <dd>
              <code>{user}</code>
            </dd>
            <dt>Access key ID</dt>
            <dd>
              <code class="access-key-id">{key.accessKeyId}</code>
            </dd>
            <dt>Secret access key</dt>
            <dd>
              <code class="secret-access-key">{key.secret}</code>
            </dd>
          </dl>
          <p>
            <a href="/console/users">Back to users</a>
          </p>
        </>
      ),
    }),
  );
});

userPages.post("/console/users/:name/access-keys/:id/delete", async (c) => {
  const gate = await keyChangeGate(c, "iam:DeleteAccessKey", "delete access keys of this user");
  if (gate instanceof Response) return gate;
  const { session, user } = gate;
  const id = c.req.param("id");
  noteAudit(c, { requestParameters: { userName: user, accessKeyId: id } });
  const db = c.get("db");
  // Revoking ends the user's console sessions too (src/auth/access-keys.ts).
  if (!ACCESS_KEY_ID.test(id) || !(await revokeAccessKey(db, user, id)))
    return notFoundPage(c, session, `Access key ${id} of user ${user}`);
  return c.redirect(withQuery("/console/users", { deleted: id }), 303);
});
