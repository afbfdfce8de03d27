/* The cloud credentials providers through the C ABI, run by tests/credentials.rs against local
 * stand-ins of the ECS metadata service and STS (loopback only) and the local OSS server:
 *   - the default chain, in an empty HOME with no credential variables, reaches the ECS RAM
 *     role (OSS_FFI_ECS_METADATA_ENDPOINT = the stand-in) and a HeadObject signs with it;
 *   - oss_credentials_provider_new_profile reads the CLI's config.json (OSS_TEST_CLI_CONFIG);
 *   - oss_credentials_provider_new_ecs_ram_role + oss_credentials_provider_get;
 *   - an unsupported profile mode is a clear InvalidCredentials error.
 * A log callback at debug level fails the run if a secret or token shows in a line.
 * Environment: OSS_TEST_ENDPOINT, OSS_TEST_BUCKET, OSS_TEST_KEY, OSS_TEST_CLI_CONFIG. */
#include "check.h"
#include "oss_ffi.h"

#include <stdio.h>
#include <string.h>

static const char *secrets[] = {"ecs-secret-", "ecs-sts-token-", "imds-session-token", "cli-secret", NULL};
static int log_lines = 0, secret_seen = 0;

static void on_log(oss_log_level_t level, const char *message, void *user_data) {
    int i;
    (void)level;
    (void)user_data;
    log_lines++;
    for (i = 0; secrets[i]; i++) {
        if (strstr(message, secrets[i])) secret_seen++;
    }
}

static void expect_ok(const char *what, oss_error_t *err) {
    CHECK(err == NULL, "%s: %s: %s", what, err ? oss_error_code(err) : "", err ? oss_error_message(err) : "");
    oss_error_free(err);
}

int main(void) {
    oss_credentials_provider_t *chain = NULL, *profile = NULL, *ecs = NULL, *sso = NULL;
    const oss_client_t *client = NULL;
    oss_get_object_request_t *req = NULL;
    oss_object_meta_t *meta = NULL;
    char *id = NULL, *sk = NULL, *tok = NULL;
    oss_error_t *err;

    expect_ok("init", oss_initialize_sdk());
    oss_set_log_callback(on_log, NULL, NULL);

    /* The default chain: nothing in the environment or HOME, so the ECS role. */
    expect_ok("default chain", oss_credentials_provider_new_default_chain(&chain));
    expect_ok("client", oss_client_new(env("OSS_TEST_ENDPOINT"), chain, NULL, &client));
    oss_credentials_provider_free(chain); /* the client keeps its own reference */
    expect_ok("request", oss_get_object_request_new(env("OSS_TEST_BUCKET"), env("OSS_TEST_KEY"), &req));
    expect_ok("head through the chain", oss_client_head_object(client, req, &meta));
    CHECK(meta && oss_object_meta_content_length(meta) == 6, "the object's size");
    oss_object_meta_free(meta);
    meta = NULL;
    expect_ok("head again (cached credentials)", oss_client_head_object(client, req, &meta));
    oss_object_meta_free(meta);
    oss_get_object_request_free(req);
    oss_client_free(client);

    /* The CLI's config.json, profile "default" (mode AK). */
    expect_ok("profile", oss_credentials_provider_new_profile(env("OSS_TEST_CLI_CONFIG"), "default", &profile));
    expect_ok("profile get", oss_credentials_provider_get(profile, &id, &sk, &tok));
    CHECK(id && !strcmp(id, "cli-ak") && tok && !strcmp(tok, ""), "profile credentials");
    oss_string_free(id);
    oss_string_free(sk);
    oss_string_free(tok);
    oss_credentials_provider_free(profile);

    /* An unsupported mode is refused when the provider is made. */
    err = oss_credentials_provider_new_profile(env("OSS_TEST_CLI_CONFIG"), "sso", &sso);
    CHECK(err && !strcmp(oss_error_code(err), "InvalidCredentials") && strstr(oss_error_message(err), "CloudSSO"),
          "unsupported mode: %s", err ? oss_error_message(err) : "no error");
    CHECK(sso == NULL, "nothing made");
    oss_error_free(err);

    /* The ECS role, asked directly. */
    expect_ok("ecs", oss_credentials_provider_new_ecs_ram_role(NULL, &ecs));
    id = sk = tok = NULL;
    expect_ok("ecs get", oss_credentials_provider_get(ecs, &id, &sk, &tok));
    CHECK(id && !strncmp(id, "ecs-ak-", 7) && tok && !strncmp(tok, "ecs-sts-token-", 14), "ecs credentials");
    oss_string_free(id);
    oss_string_free(sk);
    oss_string_free(tok);
    oss_credentials_provider_free(ecs);

    oss_set_log_callback(NULL, NULL, NULL);
    oss_shutdown_sdk();
    CHECK(log_lines > 0, "debug logging produced lines");
    CHECK(secret_seen == 0, "no secret in %d log lines", log_lines);
    if (failures) {
        fprintf(stderr, "credentials_chain: %d failures\n", failures);
        return 1;
    }
    printf("credentials_chain: all checks passed (%d log lines scanned)\n", log_lines);
    return 0;
}
