#!/bin/bash
# Seed the in-cluster Git server: runs in a Job on the server's own image (bash, git, curl, tar).
# Input: /seed/<repository>.tar.gz (one per repository, from a ConfigMap), and the environment:
#   BASE_URL, HOST, OWNER, REPOSITORIES (space-separated names), SEED_DIGEST,
#   ADMIN_USER/ADMIN_PASSWORD (the owner, pushes), READER_USER/READER_PASSWORD (Argo CD's read-only account);
#   SEED_DIR and WORK_DIR move /seed and /tmp (the tests run it on a workstation).
# Each repository gets one commit whose tree is exactly the archive's files, on top of its history; nothing is
# committed when the tree did not change. Credentials go through ~/.netrc, never a URL or a command line.
set -euo pipefail

seed_dir=${SEED_DIR:-/seed}
work_dir=${WORK_DIR:-/tmp}
export HOME="$work_dir/home"
# The image points TMPDIR at /tmp/gitea; /tmp is the Job's emptyDir under a read-only root file system.
mkdir -p "$HOME" "${TMPDIR:-/tmp}"
umask 077
printf 'machine %s login %s password %s\n' "$HOST" "$ADMIN_USER" "$ADMIN_PASSWORD" >"$HOME/.netrc"
git config --global user.name "platform seed"
git config --global user.email "seed@local.domain"
git config --global init.defaultBranch main

api() {
  # api METHOD PATH [JSON on stdin]: the server's REST API as the owner; fails on any HTTP error.
  local method=$1 path=$2
  if [[ $method == GET ]]; then
    curl --fail --silent --show-error --netrc "$BASE_URL/api/v1$path"
  else
    curl --fail --silent --show-error --netrc -X "$method" -H 'Content-Type: application/json' --data @- \
      "$BASE_URL/api/v1$path"
  fi
}

echo "waiting for $BASE_URL"
until curl --fail --silent --output /dev/null "$BASE_URL/api/healthz"; do sleep 3; done

# Argo CD's account: created once, its password kept equal to the Pulumi secret on every run. Bodies as the API's
# modules/structs/admin_user.go reads them (CreateUserOption; EditUserOption requires login_name and source_id).
user_json=$(printf '{"username":"%s","login_name":"%s","source_id":0,"email":"%s@local.domain","password":"%s","must_change_password":false}' \
  "$READER_USER" "$READER_USER" "$READER_USER" "$READER_PASSWORD")
if api GET "/users/$READER_USER" >/dev/null 2>&1; then
  api PATCH "/admin/users/$READER_USER" <<<"$user_json" >/dev/null
else
  api POST /admin/users <<<"$user_json" >/dev/null
fi

for repository in $REPOSITORIES; do
  url="$BASE_URL/$OWNER/$repository.git"
  work="$work_dir/work/$repository"
  rm -rf "$work"
  if git ls-remote --exit-code --heads "$url" main >/dev/null 2>&1; then
    git clone --quiet "$url" "$work"
  else
    git init --quiet "$work"
    git -C "$work" remote add origin "$url"
  fi
  # The tree becomes the archive's files: whatever left the folder leaves the repository.
  find "$work" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  tar -xzf "$seed_dir/$repository.tar.gz" -C "$work"
  git -C "$work" add --all
  if ! git -C "$work" rev-parse --quiet --verify HEAD >/dev/null || ! git -C "$work" diff --cached --quiet; then
    git -C "$work" commit --quiet --message "Seed from the platform program (${SEED_DIGEST:0:12})"
    # The first push creates the repository, private (ENABLE_PUSH_CREATE_USER, DEFAULT_PUSH_CREATE_PRIVATE).
    git -C "$work" push --quiet origin HEAD:main
    echo "$repository: pushed $(git -C "$work" rev-parse --short HEAD)"
  else
    echo "$repository: unchanged"
  fi
  # AddCollaboratorOption (modules/structs/repo_collaborator.go): read, write or admin.
  api PUT "/repos/$OWNER/$repository/collaborators/$READER_USER" <<<'{"permission":"read"}' >/dev/null
done
