//! The documented patterns of the submission bodies draw the line the services draw between a
//! request that breaks its schema (400) and one a rule refuses (422).

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::validation::{Pattern, Validator};

use super::AggregateRequestDoc;
use crate::domain::period::{Period, PeriodError};
use crate::domain::uid::Uid;
use crate::http::data_value_sets::DataValueSetDoc;
use crate::submissions::aggregate::is_date_shaped;

/// The `pattern` of property `field` of the registered schema `schema`, as poem checks it.
fn pattern(registry: &Registry, schema: &str, field: &str) -> Pattern {
    let (_, property) = registry.schemas[schema]
        .properties
        .iter()
        .find(|(name, _)| *name == field)
        .unwrap_or_else(|| panic!("{schema} has no {field}"));
    let MetaSchemaRef::Inline(property) = property else {
        panic!("{schema}.{field} is a reference");
    };
    let text = property.pattern.clone().expect("a pattern");
    Pattern::new(Box::leak(text.into_boxed_str()))
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    AggregateRequestDoc::register(&mut registry);
    DataValueSetDoc::register(&mut registry);
    registry
}

const PERIODS: &[&str] = &[
    "2024",
    "202401",
    "2024-01",
    "20240115",
    "2024-01-15",
    "2024W1",
    "2024W01",
    "2024W53",
    "2024WedW3",
    "2024ThuW03",
    "2024SatW52",
    "2024SunW8",
    "2024BiW26",
    "202401B",
    "2024Q1",
    "2024NovQ1",
    "2024S2",
    "2024AprilS1",
    "2024NovS2",
    "2024April",
    "2024July",
    "2024Sep",
    "2024Oct",
    "2024Nov",
    "0000",
    "9999W99",
    "202413",
    "2024Q0",
    "2024W00",
    "20240230",
    "2021W53",
    "2024Q5",
    "2024BiW28",
    "",
    "202",
    "20245",
    "2024W",
    "2024W123",
    "2024w1",
    "2024Q",
    "2024Q01",
    "2024S01",
    "2024BiW",
    "2024B",
    "20243B",
    "2024NOV",
    "2024November",
    "2024AprilS",
    "2024AugS1",
    "2024Feb",
    " 2024",
    "2024 ",
    "2024\n",
    "+2024",
    "2024-W1",
    "2024-3",
    "2024-03-5",
    "2024-0315",
    "202403-15",
    "2024/03",
    "２０２４",
    "2024W１",
    "abcd",
    "20240315T00",
    "2024June",
];

#[test]
fn a_period_breaks_the_pattern_exactly_when_its_format_is_unknown() {
    let registry = registry();
    for (schema, field) in [
        ("AggregateRequest", "period"),
        ("DataValueSet", "period"),
        ("DataValue", "period"),
    ] {
        let pattern = pattern(&registry, schema, field);
        for text in PERIODS {
            let unknown = matches!(Period::parse(text), Err(PeriodError::Unrecognised(_)));
            assert_eq!(pattern.check(text), !unknown, "{schema}.{field}: {text:?}");
        }
    }
}

#[test]
fn uid_and_date_patterns_are_the_services_checks() {
    let registry = registry();
    for field in ["dataSet", "attributeOptionCombo"] {
        let pattern = pattern(&registry, "AggregateRequest", field);
        for text in [
            "pBOMPrpg1QX",
            "pBOMPrpg1Q",
            "pBOMPrpg1QXa",
            "1BOMPrpg1QX",
            "pBOMP-pg1QX",
            "",
            "pBOMPrpg1Qé",
            "pBOMPrpg1QX\n",
        ] {
            assert_eq!(
                pattern.check(&text),
                Uid::parse(text).is_ok(),
                "{field}: {text:?}"
            );
        }
    }
    let aggregate = pattern(&registry, "AggregateRequest", "completeDate");
    let set = pattern(&registry, "DataValueSet", "completeDate");
    for text in [
        "2024-02-03",
        "2024-02-30",
        "2024-2-3",
        "20240203",
        "2024-02-03T00:00",
        "",
        "true",
    ] {
        assert_eq!(aggregate.check(&text), is_date_shaped(text), "{text:?}");
        let set_takes = is_date_shaped(text) || matches!(text, "true" | "false");
        assert_eq!(set.check(&text), set_takes, "{text:?}");
    }
}
