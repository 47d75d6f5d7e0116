#!/usr/bin/env bash
# The ECR workflow a user runs with the AWS CLI v2 (Debian's awscli, /usr/bin/aws) against this
# registry, with nothing but --endpoint-url: create a repository, log skopeo in with
# get-login-password, push, describe the image, make tags immutable, see a re-push of the tag
# refused, delete the image, delete the repository with --force.
#
# Driven by test/e2e/aws-cli.test.ts, which starts the registry and passes:
#   ENDPOINT       http://127.0.0.1:<port>        REGISTRY_HOST  127.0.0.1:<port>
#   IMAGE_A        oci:<layout>:<tag> (pushed first) IMAGE_B      oci:<layout>:<tag> (a different image)
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY      SCRATCH        a writable directory
#   SKOPEO_GLOBAL  skopeo's global flags (policy, registries.conf)
set -euo pipefail

AWS=/usr/bin/aws
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_CONFIG_FILE="$SCRATCH/aws-config" AWS_SHARED_CREDENTIALS_FILE="$SCRATCH/aws-credentials"
AUTHFILE="$SCRATCH/auth.json"
REPO="cli/flow-$$-$RANDOM"
ecr() { "$AWS" ecr --endpoint-url "$ENDPOINT" --output json "$@"; }
skopeo_() { skopeo $SKOPEO_GLOBAL "$@"; }
step() { echo "--- $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "aws --version: $("$AWS" --version 2>&1)"
"$AWS" --version 2>&1 | grep -q '^aws-cli/2\.' || fail "the AWS CLI v2 is required at $AWS"

step "create-repository $REPO"
ecr create-repository --repository-name "$REPO" --image-scanning-configuration scanOnPush=true > "$SCRATCH/created.json"
grep -q "\"repositoryUri\": \"$REGISTRY_HOST/$REPO\"" "$SCRATCH/created.json" || fail "repositoryUri: $(cat "$SCRATCH/created.json")"

step "describe-repositories"
ecr describe-repositories --repository-names "$REPO" --query 'repositories[0].imageTagMutability' --output text | grep -qx MUTABLE \
  || fail "describe-repositories"

step "get-login-password | skopeo login --password-stdin"
ecr get-login-password | skopeo_ login --authfile "$AUTHFILE" --tls-verify=false --username AWS --password-stdin "$REGISTRY_HOST"

step "skopeo push"
skopeo_ copy --authfile "$AUTHFILE" --dest-tls-verify=false "$IMAGE_A" "docker://$REGISTRY_HOST/$REPO:v1"

step "describe-images"
ecr describe-images --repository-name "$REPO" > "$SCRATCH/images.json"
grep -q '"v1"' "$SCRATCH/images.json" || fail "describe-images has no v1: $(cat "$SCRATCH/images.json")"
grep -q '"imageSizeInBytes"' "$SCRATCH/images.json" || fail "describe-images has no size"

step "put-image-tag-mutability IMMUTABLE"
ecr put-image-tag-mutability --repository-name "$REPO" --image-tag-mutability IMMUTABLE --query imageTagMutability --output text | grep -qx IMMUTABLE

step "re-push of v1 (another image) is refused"
if skopeo_ copy --authfile "$AUTHFILE" --dest-tls-verify=false "$IMAGE_B" "docker://$REGISTRY_HOST/$REPO:v1" 2> "$SCRATCH/repush.err"; then
  fail "a re-push of an immutable tag succeeded"
fi
grep -qi "immutable\|TAG_INVALID" "$SCRATCH/repush.err" || fail "unexpected re-push error: $(cat "$SCRATCH/repush.err")"

step "batch-delete-image"
ecr batch-delete-image --repository-name "$REPO" --image-ids imageTag=v1 > "$SCRATCH/deleted.json"
grep -q '"imageTag": "v1"' "$SCRATCH/deleted.json" || fail "batch-delete-image: $(cat "$SCRATCH/deleted.json")"
test "$(ecr list-images --repository-name "$REPO" --query 'length(imageIds)' --output text)" = "0" || fail "images left after delete"

step "delete-repository --force"
skopeo_ copy --authfile "$AUTHFILE" --dest-tls-verify=false "$IMAGE_B" "docker://$REGISTRY_HOST/$REPO:v2"
if ecr delete-repository --repository-name "$REPO" 2> "$SCRATCH/notempty.err"; then fail "deleting a non-empty repository without --force succeeded"; fi
grep -q RepositoryNotEmptyException "$SCRATCH/notempty.err" || fail "expected RepositoryNotEmptyException: $(cat "$SCRATCH/notempty.err")"
ecr delete-repository --repository-name "$REPO" --force > /dev/null
if ecr describe-repositories --repository-names "$REPO" 2> "$SCRATCH/gone.err"; then fail "the repository survived delete-repository --force"; fi
grep -q RepositoryNotFoundException "$SCRATCH/gone.err" || fail "expected RepositoryNotFoundException: $(cat "$SCRATCH/gone.err")"

echo "AWS CLI flow passed"
