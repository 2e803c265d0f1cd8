//! Access tokens (HS256 JWTs with a pinned algorithm) and opaque refresh tokens.

use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::Role;

pub const ISSUER: &str = "license-manager";
pub const AUDIENCE: &str = "license-manager-api";

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The company id.
    pub cid: Uuid,
    /// The role when the token was issued.
    pub role: Role,
    /// The session id.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub struct TokenKeys {
    /// Keys the pseudonyms under which usernames are stored for throttling.
    pseudonym_key: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("LM_JWT_SECRET must be at least 32 bytes".into());
        }
        let encoding = EncodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        let decoding = DecodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            pseudonym_key: Sha256::digest([b"login-throttle:".as_slice(), secret].concat())
                .to_vec(),
            encoding,
            decoding,
            validation,
            access_ttl,
        })
    }

    /// Issues an access token; returns it with its lifetime in seconds.
    pub fn issue(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        role: Role,
        session_id: Uuid,
    ) -> Result<(String, u64), String> {
        let now = chrono::Utc::now().timestamp();
        let ttl = self.access_ttl.as_secs();
        let claims = Claims {
            sub: user_id,
            cid: company_id,
            role,
            sid: session_id,
            iat: now,
            exp: now + ttl as i64,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())?;
        Ok((token, ttl))
    }

    /// A keyed, fixed-size pseudonym of `text` (hex HMAC-SHA-256), so throttling state names no
    /// username and cannot be reversed from a list of known addresses without the secret.
    pub fn pseudonym(&self, text: &str) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.pseudonym_key)
            .expect("HMAC takes any key length");
        mac.update(text.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Verifies signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// A new opaque refresh token (256 random bits, URL-safe base64).
pub fn new_refresh_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a refresh token: hex SHA-256. The token itself is never stored.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random signing secret (512 bits, URL-safe base64).
pub fn new_secret() -> String {
    let bytes: [u8; 64] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], Duration::from_secs(900)).unwrap()
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let (user, company, session) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (token, ttl) = keys().issue(user, company, Role::Editor, session).unwrap();
        assert_eq!(ttl, 900);
        let claims = keys().verify(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.cid, claims.sid, claims.role),
            (user, company, session, Role::Editor)
        );
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_rejected() {
        let (token, _) = keys()
            .issue(Uuid::new_v4(), Uuid::new_v4(), Role::Owner, Uuid::new_v4())
            .unwrap();
        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(900)).unwrap();
        assert!(other.verify(&token).is_none());
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"none","typ":"JWT"}"#);
        parts[0] = &none_header;
        assert!(
            keys()
                .verify(&format!("{}.{}.", parts[0], parts[1]))
                .is_none()
        );
        assert!(keys().verify("not-a-token").is_none());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(b"too short", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
