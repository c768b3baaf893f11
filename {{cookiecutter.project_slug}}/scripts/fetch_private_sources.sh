{% raw -%}
#!/bin/bash
# CI's one step with the organization's git credential: check access to every private
# dependency, then (with FETCH=true) fetch each locked commit, without history, into SOURCES.
#
#   /bin/bash --noprofile --norc -p scripts/fetch_private_sources.sh --secret NAME [--ssh | --per-repository-credential]
#
# Reads PYTHON (an interpreter by absolute path), GIT_HOST, SOURCES, FETCH, and the credential:
# PRIVATE_GIT_TOKEN, or SSH_PRIVATE_KEY with SSH_KNOWN_HOSTS. Runs only git, the ssh tools,
# coreutils and scripts/check_private_deps.py (`-I -S`: no site-packages, no .pth file).
#
# Nothing an earlier step of the job set can steer it: bash -p reads no BASH_ENV or ENV file and
# imports no function; every other variable is dropped below (GITHUB_ENV's GIT_CONFIG_*,
# GIT_TRACE*, proxies, GIT_SSL_NO_VERIFY, LD_PRELOAD, HOME...), PATH is the system's (no
# GITHUB_PATH entry), and git reads no system or global configuration.
set -eu -o pipefail

secret="" ssh=no per_repository=()  # the check script's flag, when given
while [ "$#" -gt 0 ]; do
  case "$1" in
    --secret) secret="$2"; shift 2 ;;
    --ssh) ssh=yes; shift ;;
    --per-repository-credential) per_repository=("$1"); shift ;;
    *) echo "usage: $0 --secret NAME [--ssh | --per-repository-credential]" >&2; exit 2 ;;
  esac
done

# The runner's own CA bundle for git (GIT_SSL_CAINFO) is kept: it chooses no destination.
keep=" PYTHON GIT_HOST SOURCES FETCH GITHUB_ACTIONS GIT_SSL_CAINFO "
if [ "${ssh}" = yes ]; then keep+="SSH_PRIVATE_KEY SSH_KNOWN_HOSTS "; else keep+="PRIVATE_GIT_TOKEN "; fi
for name in $(compgen -e); do
  case "${keep}" in
    *" ${name} "*) ;;
    *) unset "${name}" 2> /dev/null || true ;;  # bash's own read-only ones stay, unread under -p
  esac
done
export PATH=/usr/bin:/bin GIT_CONFIG_SYSTEM=/dev/null GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0
check=("${PYTHON}" -I -S scripts/check_private_deps.py)

if [ "${ssh}" = yes ]; then
  # shellcheck source=scripts/ssh_agent.sh
  . scripts/ssh_agent.sh
elif [ -z "${per_repository[*]}" ]; then
  # git asks this helper for the token, for the host only; it lives in no file and no URL.
  # shellcheck disable=SC2016  # expanded by the helper's shell, when git asks
  helper='!f() { test "$1" = get && printf "username=x-access-token\npassword=%s\n" "${PRIVATE_GIT_TOKEN}"; }; f'
  export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0="credential.https://${GIT_HOST}.helper" GIT_CONFIG_VALUE_0=""
  export GIT_CONFIG_KEY_1="credential.https://${GIT_HOST}.helper" GIT_CONFIG_VALUE_1="${helper}"
fi

agent=()
if [ "${ssh}" = yes ]; then agent=(--ssh); fi
"${check[@]}" preflight --secret "${secret}" --host "${GIT_HOST}" "${agent[@]}" "${per_repository[@]}"
if [ "${FETCH}" = true ]; then
  "${check[@]}" fetch --host "${GIT_HOST}" --into "${SOURCES}" "${per_repository[@]}"
fi
{% endraw -%}
