//! Input that no handler may see: a NUL character anywhere in the path, the query string
//! or a form or JSON body. PostgreSQL refuses NUL in text ("invalid byte sequence"), so such
//! input reached the database and came back as a 500 on nine endpoints; SQLite would
//! store it and cut strings short elsewhere. It is refused here, once, with a clear 400
//! (a readable page, or an OAuth/JSON error for the back-channel and API endpoints).

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

/// Whether `raw` (percent-encoded, or JSON) carries a NUL character.
fn carries_nul(raw: &[u8]) -> bool {
    let lower = |b: &u8| b.to_ascii_lowercase();
    raw.contains(&0)
        || raw.windows(3).any(|w| w == b"%00")
        || raw.windows(6).any(|w| w.iter().map(lower).eq(b"\\u0000".iter().copied()))
}

/// The middleware: checks the query string, and reads a form or JSON body (within the
/// configured payload limit) before putting it back for the handler.
pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // The raw path too: path parameters (`/api/v1/users/{id}`) are decoded later.
    if carries_nul(req.query_string().as_bytes()) || carries_nul(req.path().as_bytes()) {
        let response = crate::http::errors::bad_character(req.request());
        return Ok(req.into_response(response).map_into_right_body());
    }
    let with_body = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let content_type = req.content_type().to_owned();
    let textual = content_type == "application/x-www-form-urlencoded" || content_type.ends_with("json");
    if with_body && textual {
        let body = match req.extract::<web::Bytes>().await {
            Ok(body) => body,
            Err(_) => {
                // Over the payload limit (or cut off): in the API's or OAuth's error shape
                // for programs, a readable page for browsers' forms.
                let response = crate::http::errors::too_large(req.request());
                return Ok(req.into_response(response).map_into_right_body());
            }
        };
        if carries_nul(&body) {
            let response = crate::http::errors::bad_character(req.request());
            return Ok(req.into_response(response).map_into_right_body());
        }
        req.set_payload(Payload::from(body));
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::carries_nul;

    #[test]
    fn nul_is_found_raw_percent_encoded_and_json_escaped() {
        assert!(carries_nul(b"username=a%00b"));
        assert!(carries_nul(br#"{"username":"a\u0000b"}"#));
        assert!(carries_nul(br#"{"username":"a\U0000b"}"#));
        assert!(carries_nul(b"a\0b"));
        assert!(!carries_nul(b"username=a%2500b&x=%0A"));
    }
}
