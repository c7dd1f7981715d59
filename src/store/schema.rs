//! The one diesel schema for both backends, kept by hand in step with
//! `migrations/postgres` and `migrations/sqlite` (times are Unix seconds).

diesel::table! {
    tenants (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        totp_enabled -> Bool,
        enforce_internal -> Bool,
        enforce_external -> Bool,
        prompt_new_users -> Bool,
        totp_algorithm -> Text,
        totp_digits -> Integer,
        totp_period -> Integer,
        totp_skew -> Integer,
        recovery_codes_allowed -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        password_min_length -> Integer,
        remember_device_days -> Nullable<Integer>,
        logo_url -> Nullable<Text>,
        primary_colour -> Nullable<Text>,
        default_language -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        parent_id -> Nullable<Text>,
        username -> Text,
        username_key -> Text,
        email -> Nullable<Text>,
        display_name -> Nullable<Text>,
        kind -> Text,
        password_hash -> Text,
        totp_required -> Bool,
        permission -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        last_login_at -> Nullable<BigInt>,
        totp_locked_until -> Nullable<BigInt>,
        password_temporary -> Bool,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        locale -> Nullable<Text>,
        zoneinfo -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        address -> Nullable<Text>,
        profile_updated_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    totp_credentials (id) {
        id -> Text,
        user_id -> Text,
        secret_ciphertext -> Binary,
        key_id -> Text,
        algorithm -> Text,
        digits -> Integer,
        period -> Integer,
        status -> Text,
        last_used_step -> Nullable<BigInt>,
        created_at -> BigInt,
        activated_at -> Nullable<BigInt>,
        label -> Text,
        replaces_others -> Bool,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        require_mfa -> Bool,
        trusted -> Bool,
        id_token_alg -> Text,
        allow_refresh -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        access_token_alg -> Text,
        allow_remembered_devices -> Bool,
        remembered_device_mfa -> Bool,
        client_scopes -> Text,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_until -> Nullable<BigInt>,
        disabled_at -> Nullable<BigInt>,
        backchannel_logout_uri -> Nullable<Text>,
        backchannel_logout_session_required -> Bool,
    }
}

diesel::table! {
    backchannel_logouts (session_id, client_id) {
        session_id -> Text,
        client_id -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
        gave_up_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    remembered_devices (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Text,
        tenant_id -> Text,
        label -> Text,
        created_ip -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> BigInt,
        code_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sso_sessions (id) {
        id -> Text,
        user_id -> Text,
        amr -> Text,
        acr -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        label -> Text,
        ip -> Nullable<Text>,
        last_seen_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        session_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
        claims -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        client_id -> Text,
        user_id -> Text,
        session_id -> Nullable<Text>,
        auth_code_hash -> Nullable<Text>,
        scope -> Text,
        offline -> Bool,
        created_at -> BigInt,
        expires_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        issued_by -> Nullable<Text>,
        parent_hash -> Nullable<Text>,
        dpop_jkt -> Nullable<Text>,
        claims -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> Text,
        algorithm -> Text,
        private_ciphertext -> Binary,
        key_id -> Text,
        public_jwk -> Text,
        status -> Text,
        created_at -> BigInt,
        activated_at -> Nullable<BigInt>,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        actor_user_id -> Nullable<Text>,
        target_user_id -> Nullable<Text>,
        event -> Text,
        detail -> Text,
        ip -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(totp_credentials -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(clients -> tenants (tenant_id));
diesel::joinable!(sso_sessions -> users (user_id));
diesel::joinable!(authorization_codes -> sso_sessions (session_id));
diesel::joinable!(refresh_tokens -> clients (client_id));
diesel::joinable!(remembered_devices -> users (user_id));
diesel::joinable!(backchannel_logouts -> sso_sessions (session_id));
diesel::joinable!(backchannel_logouts -> clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(
    backchannel_logouts,
    tenants,
    users,
    totp_credentials,
    recovery_codes,
    clients,
    sso_sessions,
    authorization_codes,
    refresh_tokens,
    signing_keys,
    consents,
    audit_events,
    remembered_devices,
);
