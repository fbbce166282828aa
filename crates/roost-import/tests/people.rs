//! End-to-end imports of client and employee files as CRMs and HR tools export them.

use roost_import::{
    ClientStage, Currency, FileErrorKind, ImportOptions, Role, SourceFormat, TextEncoding,
    parse_clients, parse_employees, parse_properties,
};

/// Encodes text as Windows-1252 the way an old Excel "Save as CSV" does.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            c if (c as u32) < 256 => c as u8,
            c => panic!("{c} not in the fixture's charset"),
        })
        .collect()
}

fn aed() -> ImportOptions {
    ImportOptions {
        default_currency: Currency::parse("AED"),
        ..ImportOptions::default()
    }
}

#[test]
fn messy_latin1_semicolon_clients() {
    let text = "Client Ref;Full Name;E-mail;Mobile;WhatsApp No.;Nationality;Languages Spoken;Budget (AED);Areas;Assigned Agent;Status;Created;Source\r\n\
                C-001;Zoë Müller;Zoe.Muller@Example.DE;+49 151 2345 6789;;German;Deutsch, English;1.5M - 2M;Dubai Marina / JLT;Sara@Agency.ae;Hot;15/03/2024;Portal\r\n\
                C-002;José Pérez;;;00971 50 765 4321;Spanish;Español|English;950,000;Downtown;Omar Khalil;closed won;2024-04-01;\r\n\
                C-003;No Contact;;;;;;;;;lead;;\r\n\
                C-004;Bad Mail;jose@@example.com;050 123 4567;;;;;;;;;\r\n\
                C-005;Bad Budget;a@b.co;;;;;2M - 1M;;;;;\r\n";
    let parsed = parse_clients(&latin1(text), "crm-export.csv", &aed()).unwrap();
    assert_eq!(
        parsed.format,
        SourceFormat::Csv {
            delimiter: ';',
            encoding: TextEncoding::Windows1252
        }
    );
    assert_eq!(parsed.rows_read, 5);

    let [zoe, jose] = &parsed.records[..] else {
        panic!("{:#?}", parsed.records)
    };
    assert_eq!(zoe.id, "C-001");
    assert_eq!(zoe.name, "Zoë Müller");
    assert_eq!(zoe.email.as_deref(), Some("zoe.muller@example.de"));
    let phone = zoe.phone.as_ref().unwrap();
    assert_eq!(phone.number, "+4915123456789");
    assert_eq!(phone.original, "+49 151 2345 6789");
    assert_eq!(zoe.languages, ["Deutsch", "English"]);
    assert_eq!(zoe.budget_min.map(|p| p.minor_units), Some(150_000_000));
    assert_eq!(zoe.budget_max.map(|p| p.minor_units), Some(200_000_000));
    assert_eq!(zoe.budget_max.map(|p| p.currency.code()), Some("AED"));
    assert_eq!(zoe.preferred_communities, ["Dubai Marina", "JLT"]);
    assert_eq!(zoe.agent_email.as_deref(), Some("sara@agency.ae"));
    assert_eq!(zoe.stage, Some(ClientStage::Prospect));
    assert_eq!(
        zoe.created_at.map(|d| d.to_string()).as_deref(),
        Some("2024-03-15")
    );
    assert_eq!(zoe.attributes.len(), 1);
    assert_eq!(zoe.attributes[0].column, "Source");

    assert_eq!(jose.name, "José Pérez");
    assert_eq!(jose.email, None);
    assert_eq!(jose.whatsapp.as_ref().unwrap().number, "+971507654321");
    assert_eq!(jose.languages, ["Español", "English"]);
    assert_eq!(jose.budget_min, None);
    assert_eq!(jose.budget_max.map(|p| p.minor_units), Some(95_000_000));
    // A name in the agent column is kept for the caller to match.
    assert_eq!(jose.agent_email, None);
    assert_eq!(jose.agent_name.as_deref(), Some("Omar Khalil"));
    assert_eq!(jose.stage, Some(ClientStage::Closed));

    let errors: Vec<(usize, Option<&str>, &str)> = parsed
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_deref(), e.reason.as_str()))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(errors[0].0, 4);
    assert!(errors[0].2.contains("needs a contact"), "{errors:?}");
    assert_eq!((errors[1].0, errors[1].1), (5, Some("E-mail")));
    assert!(errors[1].2.contains("not an email address"), "{errors:?}");
    assert_eq!(parsed.errors[1].value.as_deref(), Some("jose@@example.com"));
    assert_eq!(errors[2].0, 6);
    assert!(
        errors[2].2.contains("minimum budget is above"),
        "{errors:?}"
    );
}

#[test]
fn client_files_need_id_name_and_a_contact_column() {
    let err = parse_clients(b"Name,Notes\nA,b\n", "c.csv", &aed()).unwrap_err();
    let FileErrorKind::MissingColumns(missing) = &err.kind else {
        panic!("{err}")
    };
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].starts_with("id"), "{missing:?}");
    assert!(missing[1].starts_with("email ("), "{missing:?}");
    assert!(
        missing[1].contains(" or phone (e.g. mobile, cell"),
        "{missing:?}"
    );
}

#[test]
fn first_and_last_names_and_budget_currency_column() {
    let csv = "ID,First Name,Last Name,Phone,Min Budget,Max Budget,Currency,Interests\n\
               7,Layla,Haddad,(050) 111-2233,1000000,\"1,500,000\",USD,\"villa, 4 bed; garden, 3/4 bed\"\n\
               8,Ali,,0501112234,EUR 5,10,USD,\n";
    let parsed = parse_clients(csv.as_bytes(), "c.csv", &ImportOptions::default()).unwrap();
    let c = &parsed.records[0];
    assert_eq!(c.name, "Layla Haddad");
    assert_eq!(c.phone.as_ref().unwrap().number, "0501112233");
    assert_eq!(
        c.budget_min.map(|p| (p.minor_units, p.currency.code())),
        Some((100_000_000, "USD"))
    );
    assert_eq!(c.interests, ["villa", "4 bed", "garden", "3/4 bed"]);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].row, 3);
    assert_eq!(parsed.errors[0].field.as_deref(), Some("budget_min"));
    assert!(parsed.errors[0].reason.contains("conflicting currencies"));
}

#[test]
fn employees_from_an_hr_sheet() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        [
            "Agent Email",
            "Agent Name",
            "Mobile",
            "Role",
            "Languages Spoken",
            "Areas",
            "Specialities",
            "BRN",
            "Job Title",
        ],
        [
            "Sara@Agency.ae",
            "Sara Ahmed",
            "+971 50 000 0001",
            "",
            "English, Arabic",
            "Marina; JBR",
            "Off-plan",
            "12345",
            "Senior Consultant",
        ],
        [
            "omar@agency.ae",
            "Omar Khalil",
            "",
            "Team Leader / agent",
            "English",
            "",
            "",
            "",
            "",
        ],
        ["SARA@agency.ae", "Duplicate", "", "", "", "", "", "", ""],
        ["lina@agency.ae", "Lina", "", "CEO", "", "", "", "", ""],
        ["not-an-email", "X", "", "", "", "", "", "", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let parsed = parse_employees(&bytes, "staff.xlsx", &ImportOptions::default()).unwrap();
    assert!(matches!(parsed.format, SourceFormat::Xlsx { .. }));
    let [omar] = &parsed.records[..] else {
        panic!("{:#?}\n{:#?}", parsed.records, parsed.errors)
    };
    assert_eq!(omar.email, "omar@agency.ae");
    assert_eq!(omar.roles, [Role::Agent, Role::Manager]);
    assert_eq!(omar.languages, ["English"]);

    let rows_in_error: Vec<usize> = parsed.errors.iter().map(|e| e.row).collect();
    assert_eq!(rows_in_error, [2, 4, 5, 6], "{:#?}", parsed.errors);
    // The same email in another case is a duplicate, and neither row imports.
    assert!(
        parsed.errors[0].reason.contains("duplicate email"),
        "{:?}",
        parsed.errors[0]
    );
    assert!(parsed.errors[2].reason.contains("unknown role \"CEO\""));
    assert_eq!(parsed.errors[3].column.as_deref(), Some("Agent Email"));
}

#[test]
fn employee_defaults_and_profile_fields() {
    let csv = "Email,Name,Role,Specialties,Bio,Licence No,Title\n\
               sara@agency.ae,Sara Ahmed,,Luxury villas|Off-plan,\"Ten years in Dubai.\r\nSpeaks four languages.\",BRN-7,Senior Consultant\n";
    let parsed = parse_employees(csv.as_bytes(), "e.csv", &ImportOptions::default()).unwrap();
    let e = &parsed.records[0];
    assert_eq!(e.roles, [Role::Agent]);
    assert_eq!(e.specialties, ["Luxury villas", "Off-plan"]);
    assert_eq!(
        e.bio.as_deref(),
        Some("Ten years in Dubai.\nSpeaks four languages.")
    );
    assert_eq!(e.license_number.as_deref(), Some("BRN-7"));
    assert_eq!(e.title.as_deref(), Some("Senior Consultant"));
}

#[test]
fn listings_still_parse() {
    let csv = "Ref,Title,Price\nA-1,Marina flat,AED 1.2M\n";
    let parsed = parse_properties(csv.as_bytes(), "l.csv", &ImportOptions::default()).unwrap();
    assert_eq!(parsed.records[0].price.minor_units, 120_000_000);
}
