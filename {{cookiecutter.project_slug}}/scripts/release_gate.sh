#!/usr/bin/env bash
# The release workflow's gate: a tag releases only a commit that is on the default branch and
# that CI passed there, on a push. The tag often arrives with, or before, the push to the
# default branch, so this waits for both, up to WAIT_MINUTES, asking every POLL_SECONDS.
#
# Reads GITHUB_SHA (the tagged commit), DEFAULT_BRANCH, WAIT_MINUTES, POLL_SECONDS, and gh's own
# GH_REPO with GH_TOKEN (github.com) or GH_HOST and GH_ENTERPRISE_TOKEN. An API error stops it
# at once: it is not read as "not yet".
set -euo pipefail

deadline=$(( $(date +%s) + WAIT_MINUTES * 60 ))
while :; do
  # "behind" or "identical": the tagged commit is in the default branch's history.
  position="$(gh api "repos/${GH_REPO}/compare/${DEFAULT_BRANCH}...${GITHUB_SHA}" --jq .status)"
  status="not-on-${DEFAULT_BRANCH}" conclusion=- url=-
  if [ "${position}" = behind ] || [ "${position}" = identical ]; then
    run="$(gh api "repos/${GH_REPO}/actions/workflows/ci.yml/runs?head_sha=${GITHUB_SHA}&branch=${DEFAULT_BRANCH}&event=push&per_page=1" \
      --jq '.workflow_runs[0] | select(. != null) | "\(.status) \(.conclusion) \(.html_url)"')"
    read -r status conclusion url <<< "${run:-missing - -}"
  fi
  if [ "${status}" = completed ]; then
    if [ "${conclusion}" = success ]; then
      echo "CI passed on ${GITHUB_SHA} on ${DEFAULT_BRANCH}: ${url}"
      exit 0
    fi
    echo "::error title=CI did not pass::CI ended ${conclusion} on the tagged commit ${GITHUB_SHA} (${url}): fix it on ${DEFAULT_BRANCH}, then tag the fixed commit"
    exit 1
  fi
  if [ "$(date +%s)" -ge "${deadline}" ]; then
    case "${status}" in
      not-on-*) echo "::error title=Not on ${DEFAULT_BRANCH}::the tagged commit ${GITHUB_SHA} is not on ${DEFAULT_BRANCH}: only a commit of ${DEFAULT_BRANCH} that CI passed is released; merge it, then tag the merged commit" ;;
      missing) echo "::error title=No CI run::no CI run for a push of ${GITHUB_SHA} to ${DEFAULT_BRANCH}: push the commit to ${DEFAULT_BRANCH} and let CI pass before tagging it" ;;
      *) echo "::error title=CI still running::CI is still ${status} on ${GITHUB_SHA} after ${WAIT_MINUTES} minutes (${url}): run this workflow again once it passes" ;;
    esac
    exit 1
  fi
  echo "CI on ${GITHUB_SHA}: ${status}; waiting"
  sleep "${POLL_SECONDS}"
done
