#!/bin/sh
# One-shot MinIO setup of the compose stack (service minio-setup, image minio/mc). Idempotent:
# every step creates or overwrites, so it can run again after a change of .env.
#   - the recordings bucket;
#   - one policy per role (policies.sh) and one user per app, each with only its policy;
set -eu

here="$(dirname "$0")"
alias_name=recfleet

mc alias set "$alias_name" "${MINIO_URL:?MINIO_URL is not set}" \
  "${MINIO_ROOT_USER:?MINIO_ROOT_USER is not set}" "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is not set}" >/dev/null

mc mb --ignore-existing "$alias_name/${STORAGE_BUCKET:?STORAGE_BUCKET is not set}"

for policy in listener egress-upload reader recorder; do
  sh "$here/policies.sh" "$policy" >"/tmp/recfleet-$policy.json"
  mc admin policy create "$alias_name" "recfleet-$policy" "/tmp/recfleet-$policy.json"
done

# user access key, secret key, policy
add_user() {
  mc admin user add "$alias_name" "$1" "$2"
  # Attaching a policy the user already has is an error in mc: tolerate exactly that one.
  if ! output="$(mc admin policy attach "$alias_name" "$3" --user "$1" 2>&1)"; then
    case "$output" in
      *"already"*) ;;
      *) echo "$output" >&2; exit 1 ;;
    esac
  fi
}
add_user "${MINIO_LISTENER_ACCESS_KEY:?}" "${MINIO_LISTENER_SECRET_KEY:?}" recfleet-listener
add_user "${MINIO_EGRESS_ACCESS_KEY:?}" "${MINIO_EGRESS_SECRET_KEY:?}" recfleet-egress-upload
add_user "${MINIO_RECORDER_ACCESS_KEY:?}" "${MINIO_RECORDER_SECRET_KEY:?}" recfleet-recorder
add_user "${MINIO_MAILER_ACCESS_KEY:?}" "${MINIO_MAILER_SECRET_KEY:?}" recfleet-reader
add_user "${MINIO_API_ACCESS_KEY:?}" "${MINIO_API_SECRET_KEY:?}" recfleet-reader

echo "minio setup done: bucket $STORAGE_BUCKET, 5 users"
