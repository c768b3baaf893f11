{% raw -%}
# shellcheck shell=bash
# Sourced by fetch_private_sources.sh in SSH mode: an agent that only this step can reach holds
# SSH_PRIVATE_KEY for a limited time, and git's ssh offers that key alone, reading no ssh config.
if [ -z "${SSH_PRIVATE_KEY:-}" ]; then
  return 0  # the check script names the missing secret
fi
if [ -z "${SSH_KNOWN_HOSTS:-}" ]; then
  echo "::error title=Private dependencies::the variable SSH_KNOWN_HOSTS is empty: set it to the known_hosts lines of the git host, so its key is verified"
  exit 1
fi
# A new folder only this user can enter: nothing can be listening at the socket before the agent.
agent_dir="$(mktemp -d)"
# -D keeps the agent in the foreground, in this step's process group: a signal to the group (a
# cancelled run) reaches it too, and the trap stops it however the script ends.
ssh-agent -D -a "${agent_dir}/socket" > /dev/null &
agent_pid=$!
trap 'kill "${agent_pid}" 2> /dev/null || true; rm -rf "${agent_dir}"' EXIT
for _ in $(seq 50); do [ -S "${agent_dir}/socket" ] && break; sleep 0.1; done
export SSH_AUTH_SOCK="${agent_dir}/socket"
listed=0
ssh-add -l > /dev/null 2>&1 || listed=$?
if [ "${listed}" -ne 1 ]; then  # 1: an agent that holds no key, as a new one does
  echo "::error title=Private dependencies::the SSH agent did not start, or already held keys: nothing was given to it"
  exit 1
fi
if ! printf '%s\n' "${SSH_PRIVATE_KEY}" | ssh-add -q -t 1800 - 2> /dev/null; then
  echo "::error title=Private dependencies::ssh-add cannot load the secret ${secret:-SSH_PRIVATE_KEY}: store the whole private key file, without a passphrase"
  exit 1
fi
unset SSH_PRIVATE_KEY
ssh-add -L > "${agent_dir}/key.pub"
printf '%s\n' "${SSH_KNOWN_HOSTS}" > "${agent_dir}/known_hosts"
options=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=${agent_dir}/known_hosts"
  -o "IdentityAgent=${agent_dir}/socket" -o IdentitiesOnly=yes -o "IdentityFile=${agent_dir}/key.pub")
export GIT_SSH_COMMAND="ssh ${options[*]}"
# pyproject.toml keeps https URLs; git fetches them over SSH here (to the host name: SSH has its own port).
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.ssh://git@${GIT_HOST%%:*}/.insteadOf" GIT_CONFIG_VALUE_0="https://${GIT_HOST}/"
{% endraw -%}
