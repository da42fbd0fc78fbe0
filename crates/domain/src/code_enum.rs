//! Enumerations that have a stable code (API, database) and a Chinese label (UI, forms).

/// Declares an enum whose variants carry a snake_case code and a Chinese label, with `parse`
/// accepting either, `all()`, and serde through the code.
#[macro_export]
macro_rules! code_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// `(code, label)` of every variant, in order.
            pub const OPTIONS: &'static [(&'static str, &'static str)] = &[$(($code, $label)),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Option<Self> {
                let s = $crate::text::clean(s);
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label() == s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| ::serde::de::Error::custom(format!("unknown value {s:?}")))
            }
        }
        /// A string whose values are the codes (the labels are accepted too, where it is input).
        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .description(Some(concat!($($code, "：", $label, "；"),+)))
                    .into()
            }
        }
        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {}

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
