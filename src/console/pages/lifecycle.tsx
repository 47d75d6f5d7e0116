/**
 * GET /console/lifecycle?repository=<name>: the repository's lifecycle policy
 * (`ecr:GetLifecyclePolicy`) and, with `ecr:GetLifecyclePolicyPreview`, its preview: the images
 * the policy would expire now, by rule. The preview is computed on each view by the evaluator
 * the scheduled run and StartLifecyclePolicyPreview use (src/lifecycle/evaluate.ts), over the
 * same storage read, and is neither stored nor acted on: this page deletes nothing.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { evaluateLifecycle, type ExpiryDecision } from "../../lifecycle/evaluate";
import {
  LifecyclePolicyError,
  parseLifecyclePolicy,
  type LifecyclePolicy,
  type LifecycleRule,
} from "../../lifecycle/policy";
import { loadLifecycleImages } from "../../storage/lifecycle-records";
import { allowedOn } from "../access";
import { notFoundPage } from "../auth-pages";
import { pageHtml } from "../layout";
import { ConsoleNav } from "./console-nav";
import { Digest, repositoryGate, When } from "./registry-shared";

export const lifecyclePages = new Hono<AppEnv>();

/** Rows the preview table shows; the total is always given. */
const MAX_PREVIEW_ROWS = 1000;

/** The stored text, indented when it is JSON (it always is once accepted). */
function readable(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function selectionText(rule: LifecycleRule): string {
  const { selection } = rule;
  const tags =
    selection.tagStatus === "tagged"
      ? `tagged ${[...(selection.tagPrefixList ?? []).map((p) => `${p}*`), ...(selection.tagPatternList ?? [])].join(", ")}`
      : selection.tagStatus === "untagged"
        ? "untagged"
        : "any image";
  const count =
    selection.countType === "imageCountMoreThan"
      ? `beyond the newest ${selection.countNumber}`
      : selection.countType === "sinceImagePushed"
        ? `pushed more than ${selection.countNumber} days ago`
        : `not pulled for more than ${selection.countNumber} days`;
  return `${tags}, ${count}`;
}

type Preview = { policy: LifecyclePolicy; decisions: ExpiryDecision[] } | { error: string } | null;

lifecyclePages.get("/console/lifecycle", async (c) => {
  const gate = await repositoryGate(c, "ecr:GetLifecyclePolicy", "read the lifecycle policy");
  if (gate instanceof Response) return gate;
  const { session, name, row } = gate;
  if (row === undefined) return notFoundPage(c, session, `Repository ${name}`);
  const text = row.lifecyclePolicy;
  const previewAllowed = await allowedOn(c, session.principal, "ecr:GetLifecyclePolicyPreview", name, row);
  let preview: Preview = null;
  if (text !== null && previewAllowed) {
    try {
      const policy = parseLifecyclePolicy(text);
      preview = {
        policy,
        decisions: evaluateLifecycle(policy, await loadLifecycleImages(c.get("db"), name), Date.now()),
      };
    } catch (error) {
      if (!(error instanceof LifecyclePolicyError)) throw error;
      preview = { error: error.message };
    }
  }
  return c.html(
    pageHtml({
      title: `Lifecycle of ${name}`,
      session,
      children: (
        <>
          <ConsoleNav />
          <p>
            Repository <a href={`/console/repositories/${name}`}>{name}</a>. Last evaluated{" "}
            <When at={row.lifecycleEvaluatedAt} />.
          </p>
          <h2>Policy</h2>
          {text === null ? (
            <p>This repository has no lifecycle policy.</p>
          ) : (
            <div class="prose">
              <pre class="policy">{readable(text)}</pre>
            </div>
          )}
          {text === null ? null : previewAllowed ? (
            <PreviewSection preview={preview} />
          ) : (
            <p class="muted">Your policies do not allow ecr:GetLifecyclePolicyPreview, so no preview is shown.</p>
          )}
        </>
      ),
    }),
  );
});

function PreviewSection(props: { preview: Preview }) {
  const { preview } = props;
  if (preview === null) return null;
  if ("error" in preview) return <p class="error">{`The stored policy does not parse: ${preview.error}`}</p>;
  const shown = preview.decisions.slice(0, MAX_PREVIEW_ROWS);
  return (
    <>
      <h2>Rules</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Priority</th>
              <th scope="col">Description</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {preview.policy.rules.map((rule) => (
              <tr>
                <td>{rule.rulePriority}</td>
                <td>{rule.description ?? ""}</td>
                <td>{selectionText(rule)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Preview</h2>
      <p>
        <strong class="expiring-total">{preview.decisions.length}</strong>
        {preview.decisions.length === 1 ? " image" : " images"} would expire if the policy ran now. Nothing is deleted
        from this page.
      </p>
      {shown.length === 0 ? null : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Image</th>
                <th scope="col">Tags</th>
                <th scope="col">Pushed</th>
                <th scope="col">Rule</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((decision) => (
                <tr class="expiring" data-digest={decision.digest}>
                  <td>
                    <Digest digest={decision.digest} />
                  </td>
                  <td>{decision.tags.length === 0 ? <span class="muted">untagged</span> : decision.tags.join(", ")}</td>
                  <td>
                    <When at={decision.pushedAt} />
                  </td>
                  <td>
                    {decision.rulePriority === null
                      ? "referrer whose subject is gone"
                      : decision.reason === "subject"
                        ? `${decision.rulePriority} (with its subject)`
                        : String(decision.rulePriority)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {preview.decisions.length > shown.length ? (
        <p class="muted">{`The first ${MAX_PREVIEW_ROWS} are listed.`}</p>
      ) : null}
    </>
  );
}
