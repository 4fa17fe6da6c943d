import Foundation
import Testing

@testable import Orbit

/// Event input: NDJSON, CSV through a column mapping, the CDNOW example data.
@Suite struct InputTests {
    // MARK: - Helpers

    static func fixture(_ name: String) throws -> String {
        let base = try #require(Bundle.module.resourceURL, "no test resources")
        return base.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    static let exampleData = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/loyalty/data")

    static func instant(_ text: String) throws -> Instant {
        try #require(Instant(iso8601: text))
    }

    /// The results of reading `text` as NDJSON, by line.
    static func ndjson(_ text: String) throws -> [Int: Result<Event, EventInputError>] {
        let reader = try EventReader(contents: text, file: "t.ndjson", format: .ndjson)
        return Dictionary(uniqueKeysWithValues: reader.map { ($0.line, $0.result) })
    }

    /// The message of the error that the one-line NDJSON `line` decodes to (nil when it decodes).
    static func ndjsonError(_ line: String) throws -> String? {
        let results = try ndjson(line)
        guard case .failure(let error)? = results[1] else { return nil }
        return error.message
    }

    static func csv(_ text: String, _ mapping: String) throws -> [Int: Result<Event, EventInputError>] {
        let mapping = try CSVMapping.decode(json: mapping)
        let reader = try EventReader(contents: text, file: "t.csv", format: .csv(mapping))
        return Dictionary(uniqueKeysWithValues: reader.map { ($0.line, $0.result) })
    }

    static func message(_ result: Result<Event, EventInputError>?) -> String? {
        guard case .failure(let error)? = result else { return nil }
        return error.message
    }

    static func event(_ result: Result<Event, EventInputError>?) throws -> Event {
        switch result {
        case .success(let event)?: return event
        case .failure(let error)?: throw error
        case nil: throw EventInputError(file: "", line: nil, message: "no such line")
        }
    }

    static let valid =
        #"{"id":"e-1","type":"purchase","customer":"c-42","at":"2026-11-20T10:15:00Z","total":4999,"currency":"EUR"}"#

    /// `valid` with `replacement` instead of `original`.
    static func variant(_ original: String, _ replacement: String) -> String {
        valid.replacingOccurrences(of: original, with: replacement)
    }

    // MARK: - NDJSON fixture

    @Test("CSV fields lose the spaces and tabs around them, nothing else")
    func trimmingFields() {
        #expect(trimmed(" \t c-42 \t") == "c-42")
        #expect(trimmed("Jürgen Müller ") == "Jürgen Müller")
        #expect(trimmed("\u{00A0}é\u{00A0}") == "\u{00A0}é\u{00A0}", "only ASCII spaces and tabs")
        #expect(trimmed(" \t ").isEmpty)
        #expect(trimmed("").isEmpty)
    }

    @Test func ndjsonFixtureDecodesEveryLineAsExpected() throws {
        let path = try Self.fixture("events.ndjson")
        let reader = try EventReader(path: path, format: .ndjson)
        let results = Array(reader)
        #expect(results.map(\.line) == [1, 2] + Array(4...18) + Array(20...25))

        var errors: [Int: String] = [:]
        var ids: [Int: String] = [:]
        for (line, result) in results {
            switch result {
            case .success(let event): ids[line] = event.id
            case .failure(let error):
                #expect(error.file == path)
                #expect(error.line == line)
                errors[line] = error.message
            }
        }
        #expect(
            ids == [
                1: "e-1", 2: "e-2", 4: "e-3", 5: "e-4", 6: "e-5", 7: "e-6", 12: "e-11", 15: "e-13", 16: "e-14",
                18: "e-16", 21: "e-17", 22: "e-18", 24: "e-20",
            ])
        #expect(
            errors == [
                8: #"field 'total' must be an integer number of minor units, got "49.99""#,
                9: "missing field 'customer'",
                10: #"field 'at' must be ISO 8601 with a zone, e.g. 2026-11-20T10:15:00Z, got "2026-11-07 10:00""#,
                11: #"malformed JSON at column 46: expected ',' or '}' after the value of 'customer', found '"'"#,
                13: #"unknown currency "XYZ" in field 'currency'"#,
                14: "field 'id' must not be empty",
                17: "field 'total' must not be negative, got -100",
                20: "an event must be a JSON object, got an array",
                23: "field 'total' is absurdly large: 1000000000001 minor units (the limit is 1000000000000)",
                25: "unknown field 'items[0].quantity' (a line item has sku, category, qty and price)",
            ])
        let first = try #require(results.first { $0.line == 8 })
        if case .failure(let error) = first.result {
            #expect(
                error.description
                    == "\(path):8: field 'total' must be an integer number of minor units, got \"49.99\"")
        }
    }

    @Test func ndjsonRoundTripsEveryField() throws {
        let results = try Dictionary(
            uniqueKeysWithValues: EventReader(path: Self.fixture("events.ndjson"), format: .ndjson).map {
                ($0.line, $0.result)
            })
        #expect(
            try Self.event(results[2])
                == Event(
                    id: "e-2", type: "purchase", customerID: "c-1", at: Self.instant("2026-11-02T09:15:00Z"),
                    total: Money(minorUnits: 4999, currency: .eur), orderID: "o-1",
                    items: [LineItem(sku: "A1", category: "shoes", quantity: 1, price: 4999)]))
        #expect(
            try Self.event(results[1]).data
                == ["email": .string("ana@example.com"), "consent": .object(["email": .bool(true)])])
        let jpy = try Self.event(results[4])
        #expect(jpy.at.millisecondsSinceEpoch % 1000 == 250)
        #expect(jpy.total == Money(minorUnits: 0, currency: try #require(Currency(code: "JPY"))))
        #expect(jpy.items.isEmpty && jpy.orderID == nil && jpy.data.isEmpty)
        let refund = try Self.event(results[5])
        #expect(refund.type == "refund" && refund.total?.minorUnits == 1999)
        #expect(refund.data == ["reason": .string("damaged")])
        let visit = try Self.event(results[6])
        #expect(visit.at == (try Self.instant("2026-11-05T00:00:00Z")) && visit.total == nil)
        #expect(visit.data == ["page": .string("/sale"), "duration": .number(12.5)])
        let review = try Self.event(results[7])
        #expect(review.at == (try Self.instant("2026-11-06T23:30:00Z")))
        #expect(
            review.data == [
                "stars": .integer(5), "text": .string("Café \"great\"\n"),
                "tags": .array([.string("a"), .string("b")]), "extra": .null,
            ])
        let kwd = try Self.event(results[12])
        #expect(kwd.total == Money(minorUnits: 123_456, currency: try #require(Currency(code: "KWD"))))
        #expect(kwd.items == [LineItem(sku: "B2", quantity: 3, price: 41152)])
        #expect(kwd.data == ["channel": .string("app")])
        let gbp = try Self.event(results[16])
        #expect(gbp.items == [LineItem(sku: "C3", category: nil, quantity: 2, price: 1250)])
        let survey = try Self.event(results[18])
        #expect(survey.total?.minorUnits == 300 && survey.data == ["answers": .object(["nps": .integer(9)])])
        #expect(try Self.event(results[21]).id == "e-17")  // a \r\n line end
        #expect(try Self.event(results[22]).total?.minorUnits == 1_000_000_000_000)
        let wishlist = try Self.event(results[24])
        #expect(wishlist.total == nil && wishlist.data == ["currency": .string("CHF"), "sku": .string("Z9")])
    }

    // MARK: - NDJSON validation messages

    @Test func missingFields() throws {
        #expect(try Self.ndjsonError(Self.valid) == nil)
        #expect(try Self.ndjsonError(Self.variant(#""id":"e-1","#, "")) == "missing field 'id'")
        #expect(try Self.ndjsonError(Self.variant(#""type":"purchase","#, "")) == "missing field 'type'")
        #expect(try Self.ndjsonError(Self.variant(#""customer":"c-42","#, "")) == "missing field 'customer'")
        #expect(try Self.ndjsonError(Self.variant(#""at":"2026-11-20T10:15:00Z","#, "")) == "missing field 'at'")
        #expect(
            try Self.ndjsonError(Self.variant(#""total":4999,"#, ""))
                == "missing field 'total' (required for a purchase)")
        #expect(
            try Self.ndjsonError(Self.variant(#","currency":"EUR""#, ""))
                == "missing field 'currency' (required for a purchase)")
        #expect(
            try Self.ndjsonError(
                #"{"id":"r","type":"refund","customer":"c","at":"2026-11-20T10:15:00Z","currency":"EUR"}"#)
                == "missing field 'total' (required for a refund)")
        #expect(
            try Self.ndjsonError(#"{"id":"v","type":"visit","customer":"c","at":"2026-11-20T10:15:00Z","total":5}"#)
                == "missing field 'currency' (required with 'total')")
        #expect(
            try Self.ndjsonError(#"{"id":"v","type":"visit","customer":"c","at":"2026-11-20T10:15:00Z","total":null}"#)
                == nil)
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"price":1}]}"#))
                == "missing field 'items[0].sku'")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"A"}]}"#))
                == "missing field 'items[0].price'")
    }

    @Test func wrongTypes() throws {
        #expect(
            try Self.ndjsonError(Self.variant("4999", #""49.99""#))
                == #"field 'total' must be an integer number of minor units, got "49.99""#)
        #expect(
            try Self.ndjsonError(Self.variant("4999", "49.99"))
                == "field 'total' must be an integer number of minor units, got 49.99")
        #expect(
            try Self.ndjsonError(Self.variant("4999", "[1]"))
                == "field 'total' must be an integer number of minor units, got an array")
        #expect(try Self.ndjsonError(Self.variant(#""e-1""#, "1")) == "field 'id' must be a string, got 1")
        #expect(try Self.ndjsonError(Self.variant(#""c-42""#, "null")) == "field 'customer' must be a string, got null")
        #expect(try Self.ndjsonError(Self.variant(#""purchase""#, "true")) == "field 'type' must be a string, got true")
        #expect(
            try Self.ndjsonError(Self.variant(#""2026-11-20T10:15:00Z""#, "{}"))
                == "field 'at' must be a string, got an object")
        #expect(
            try Self.ndjsonError(Self.variant(#""EUR""#, "978"))
                == #"field 'currency' must be an ISO 4217 code like "EUR", got 978"#)
        #expect(try Self.ndjsonError(Self.variant("}", #","order":7}"#)) == "field 'order' must be a string, got 7")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":{"sku":"A"}}"#))
                == "field 'items' must be an array, got an object")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":["A"]}"#))
                == #"field 'items[0]' must be an object, got "A""#)
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"A","price":1},{"sku":"B","qty":0,"price":1}]}"#))
                == "field 'items[1].qty' must be an integer greater than 0, got 0")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"A","qty":1.5,"price":1}]}"#))
                == "field 'items[0].qty' must be an integer greater than 0, got 1.5")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"A","qty":2000000,"price":1}]}"#))
                == "field 'items[0].qty' is absurdly large: 2000000 (the limit is 1000000)")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"A","price":-1}]}"#))
                == "field 'items[0].price' must not be negative, got -1")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"A","category":5,"price":1}]}"#))
                == "field 'items[0].category' must be a string, got 5")
        #expect(
            try Self.ndjsonError(Self.variant("}", #","items":[{"sku":"","price":1}]}"#))
                == "field 'items[0].sku' must not be empty")
        #expect(try Self.ndjsonError("42") == "an event must be a JSON object, got 42")
        #expect(try Self.ndjsonError(#""e-1""#) == #"an event must be a JSON object, got "e-1""#)
    }

    @Test func amountsAndCurrencies() throws {
        #expect(try Self.ndjsonError(Self.variant("4999", "-1")) == "field 'total' must not be negative, got -1")
        #expect(
            try Self.ndjsonError(Self.variant("4999", "1000000000001"))
                == "field 'total' is absurdly large: 1000000000001 minor units (the limit is 1000000000000)")
        #expect(
            try Self.ndjsonError(Self.variant("4999", "99999999999999999999"))
                == "field 'total' must be an integer number of minor units, got 1e+20")
        #expect(try Self.ndjsonError(Self.variant("4999", "0")) == nil)
        #expect(try Self.ndjsonError(Self.variant("EUR", "XYZ")) == #"unknown currency "XYZ" in field 'currency'"#)
        #expect(
            try Self.ndjsonError(Self.variant("EUR", "eur"))
                == #"unknown currency "eur" in field 'currency' (codes are upper case: EUR)"#)
    }

    @Test func emptyIdentifiersAndBadInstants() throws {
        #expect(try Self.ndjsonError(Self.variant(#""e-1""#, #""""#)) == "field 'id' must not be empty")
        #expect(try Self.ndjsonError(Self.variant(#""c-42""#, #""  ""#)) == "field 'customer' must not be empty")
        #expect(try Self.ndjsonError(Self.variant(#""purchase""#, #""""#)) == "field 'type' must not be empty")
        #expect(try Self.ndjsonError(Self.variant("}", #","order":""}"#)) == "field 'order' must not be empty")
        for bad in ["2026-11-20T10:15:00", "20.11.2026", "2026-02-30", "2026-11-20T25:00:00Z", "yesterday", ""] {
            let message = try Self.ndjsonError(Self.variant("2026-11-20T10:15:00Z", bad))
            if bad.isEmpty {
                #expect(message == "field 'at' must not be empty")
            } else {
                #expect(
                    message
                        == "field 'at' must be ISO 8601 with a zone, e.g. 2026-11-20T10:15:00Z, got \"\(bad)\"")
            }
        }
        let offset = try Self.event(try Self.ndjson(Self.variant("10:15:00Z", "10:15:00+02:00"))[1])
        #expect(offset.at == (try Self.instant("2026-11-20T08:15:00Z")))
    }

    @Test func malformedJSONSaysWhere() throws {
        let cases: [(String, String)] = [
            (
                #"{"id":"e-1""#,
                "malformed JSON at column 12: expected ',' or '}' after the value of 'id', found end of line"
            ),
            (#"{"id":"e-1",}"#, "malformed JSON at column 13: expected a field name in double quotes, found '}'"),
            (#"{"id" "e-1"}"#, #"malformed JSON at column 7: expected ':' after the field name "id", found '"'"#),
            (#"{"id":e-1}"#, "malformed JSON at column 7: unexpected 'e', expected a value"),
            (#"{"id":"e-1"}}"#, "malformed JSON at column 13: unexpected '}' after the end of the JSON value"),
            (#"{"id":"e-1","id":"e-2"}"#, "malformed JSON at column 13: duplicate field 'id'"),
            (#"{"id":"e-1"#, "malformed JSON at column 7: unterminated string"),
            (#"{"id":"a\qb"}"#, #"malformed JSON at column 9: invalid escape '\q' in a string"#),
            (#"{"id":"\ud800"}"#, #"malformed JSON at column 8: unpaired surrogate in a \u escape"#),
            (#"{"n":01}"#, "malformed JSON at column 7: numbers must not have leading zeros"),
            (#"{"n":1.}"#, "malformed JSON at column 8: expected a digit after the decimal point"),
            (#"{"n":tru}"#, "malformed JSON at column 6: unexpected 't', expected a value"),
            ("{\"id\":\"a\tb\"}", "malformed JSON at column 9: unescaped control character in a string"),
            (String(repeating: "[", count: 70), "malformed JSON at column 65: nested more than 64 levels deep"),
        ]
        for (line, expected) in cases {
            #expect(try Self.ndjsonError(line) == expected, "\(line)")
        }
        // Escapes and non-ASCII text decode.
        let escaped = try Self.event(
            try Self.ndjson(Self.variant("}", #","note":"\u00e9\ud83d\ude00 \/ \\ \t ü"}"#))[1])
        #expect(escaped.data["note"] == .string("é😀 / \\ \t ü"))
    }

    @Test func errorDescriptionNamesFileAndLine() throws {
        let text = "\n" + Self.variant(#""customer":"c-42","#, "") + "\n\n"
        let results = Array(try EventReader(contents: text, file: "events.ndjson", format: .ndjson))
        #expect(results.count == 1)
        guard case .failure(let error) = try #require(results.first).result else {
            Issue.record("expected an error")
            return
        }
        #expect(error.description == "events.ndjson:2: missing field 'customer'")
        #expect(EventInputError(file: "x.csv", line: nil, message: "no such file").description == "x.csv: no such file")
    }

    @Test func byteOrderMarkAndReadAll() throws {
        let reader = try EventReader(contents: "\u{FEFF}" + Self.valid + "\r\n" + Self.valid + "x\n", format: .ndjson)
        let (events, errors) = reader.readAll()
        #expect(events.map(\.id) == ["e-1"])
        #expect(
            errors.map(\.description) == [
                "<input>:2: malformed JSON at column 107: unexpected 'x' after the end of the JSON value"
            ])
    }

    @Test func fileErrors() throws {
        #expect(throws: EventInputError(file: "/nonexistent/e.ndjson", line: nil, message: "no such file")) {
            try EventReader(path: "/nonexistent/e.ndjson", format: .ndjson)
        }
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: EventInputError(file: directory, line: nil, message: "is a directory")) {
            try EventReader(path: directory, format: .ndjson)
        }
    }

    // MARK: - Format detection

    @Test func formatDetection() throws {
        let mapping = try CSVMapping.load(path: Self.fixture("orders.mapping.json"))
        #expect(try EventFormat.detect(path: "a/events.ndjson") == .ndjson)
        #expect(try EventFormat.detect(path: "events.JSONL") == .ndjson)
        #expect(try EventFormat.detect(path: "orders.csv", mapping: mapping) == .csv(mapping))
        #expect(try EventFormat.detect(path: "CDNOW_master.txt", mapping: mapping) == .csv(mapping))
        #expect(try EventFormat.detect(path: "export", mapping: mapping) == .csv(mapping))
        #expect(
            try EventFormat.detect(path: "orders.csv", mappingPath: Self.fixture("orders.mapping.json"))
                == .csv(mapping))
        func problem(_ path: String, _ mapping: CSVMapping? = nil) -> String? {
            do {
                _ = try EventFormat.detect(path: path, mapping: mapping)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(problem("orders.csv")?.hasPrefix(".csv files need a column mapping") == true)
        #expect(problem("data.txt")?.hasPrefix(".txt files need a column mapping") == true)
        #expect(problem("events.json")?.hasPrefix("cannot tell the event format") == true)
        #expect(problem("e.ndjson", mapping)?.hasPrefix("a column mapping applies to CSV files only") == true)
    }

    // MARK: - CSV

    @Test func csvFixtureWithHeaderNames() throws {
        let mapping = try CSVMapping.load(path: Self.fixture("orders.mapping.json"))
        let path = try Self.fixture("orders.csv")
        let results = Dictionary(
            uniqueKeysWithValues: try EventReader(path: path, format: .csv(mapping)).map { ($0.line, $0.result) })
        #expect(results.keys.sorted() == [2, 3, 4, 5] + Array(7...19))
        let eur = Currency.eur
        #expect(
            try Self.event(results[2])
                == Event(
                    id: "shop-1001", type: "purchase", customerID: "c-1", at: Self.instant("2026-11-02"),
                    total: Money(minorUnits: 2933, currency: eur), orderID: "1001",
                    data: ["channel": .string("web"), "qty": .integer(2)]))
        let quoted = try Self.event(results[3])
        #expect(quoted.customerID == "Smith, J" && quoted.total == .zero(eur))
        #expect(quoted.data == ["channel": .string("app \"beta\""), "qty": .integer(1)])
        let usd = try Self.event(results[4])
        #expect(usd.total == Money(minorUnits: 150, currency: .usd) && usd.data == ["channel": .string("web")])
        let jpy = try Self.event(results[5])
        #expect(jpy.total == Money(minorUnits: 100, currency: try #require(Currency(code: "JPY"))))
        #expect(jpy.data["qty"] == .string("007"))
        let refund = try Self.event(results[7])
        #expect(refund.type == "refund" && refund.total == Money(minorUnits: 1000, currency: eur))
        let visit = try Self.event(results[13])
        #expect(visit.type == "visit" && visit.total == nil && visit.id == "shop-1011")

        var errors: [Int: String] = [:]
        for (line, result) in results {
            if case .failure(let error) = result { errors[line] = error.message }
        }
        #expect(
            errors == [
                8: #"column "amount" (total) must be a decimal amount like 29.33, got "abc""#,
                9: #"column "date" (at) must be a date yyyy-MM-dd, e.g. 2026-11-20, got "2026-13-07""#,
                10: #"column "customer" (customer) is empty"#,
                11: #"column "currency" (currency): unknown currency "ZZZ""#,
                12: #"column "amount" (total) has more decimals than the currency's 2 decimals, got "1.234""#,
                14: #"column "amount" (total) must be a decimal amount like 29.33, got "5,00""#,
                15: #"the id "shop-1001" repeats the one of line 2: the mapping's id template must make ids unique "#
                    + "(include {line})",
                16: #"column "amount" (total) must not be negative, got "-3.00""#,
                17: "field 3 has an opening quote without a closing one",
                18: #"column "amount" (total) is empty (required for a purchase)"#,
                19: #"column "kind" (type) is missing: the line has 2 columns"#,
            ])
    }

    @Test func csvByPositionWithSemicolonsTabsAndDecimalCommas() throws {
        let mapping = #"""
            {"delimiter": ";", "columns": {"customer": 2, "at": 1, "total": 3, "order": 4}, "type": "purchase",
             "currency": "EUR", "amount": "decimal", "decimal_separator": ",", "id": "b-{4}-{line}",
             "date_format": "iso8601"}
            """#
        let results = try Self.csv(
            "2026-11-20T10:15:00+01:00;c-1;29,33;o-1\n2026-11-21;\"c;2\";\"1\";\n2026-11-22;c-3;1.5;o-3\n", mapping)
        let first = try Self.event(results[1])
        #expect(first.id == "b-o-1-1" && first.customerID == "c-1" && first.orderID == "o-1")
        #expect(first.at == (try Self.instant("2026-11-20T09:15:00Z")) && first.total?.minorUnits == 2933)
        let second = try Self.event(results[2])
        #expect(second.id == "b--2" && second.customerID == "c;2" && second.orderID == nil)
        #expect(second.total?.minorUnits == 100)
        #expect(Self.message(results[3]) == #"column 3 (total) must be a decimal amount like 29,33, got "1.5""#)

        let tabs = #"""
            {"delimiter": "tab", "header": true, "columns": {"customer": "who", "at": "when", "total": "cents",
             "currency": "cur", "id": "ref"}, "type": "purchase", "amount": "minor", "date_format": "yyyyMMdd"}
            """#
        let tabbed = try Self.csv(
            "ref\twho\twhen\tcents\tcur\nr1\tc-1\t19970101\t2933\tusd\nr2\tc-2\t19970102\t1.5\tUSD\n", tabs)
        let minor = try Self.event(tabbed[2])
        #expect(minor.id == "r1" && minor.total == Money(minorUnits: 2933, currency: .usd))
        #expect(minor.at == (try Self.instant("1997-01-01T00:00:00Z")))
        #expect(
            Self.message(tabbed[3]) == #"column "cents" (total) must be an integer number of minor units, got "1.5""#)
    }

    @Test func decimalAmounts() throws {
        func parse(_ text: String, digits: Int = 2) -> Int64? {
            try? DecimalAmount.parseDecimal(text[...], digits: digits, separator: UInt8(ascii: "."))
        }
        #expect(parse("29.33") == 2933)
        #expect(parse("0") == 0)
        #expect(parse("0.00") == 0)
        #expect(parse("1.5") == 150)
        #expect(parse("100") == 10000)
        #expect(parse("29.330") == 2933)
        #expect(parse("29.331") == nil)
        #expect(parse("100", digits: 0) == 100)
        #expect(parse("1.5", digits: 0) == nil)
        #expect(parse("1.5", digits: 3) == 1500)
        #expect(parse("10000000000.00") == 1_000_000_000_000)
        #expect(parse("10000000000.01") == nil)
        #expect(parse("99999999999999999999999") == nil)
        for bad in ["", ".5", "5.", "1,5", "1e3", "+1", "1 000", "abc", "-", "--1"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
        #expect(parse("-0.00") == 0)
        #expect(throws: InputProblem.self) { try DecimalAmount.parseDecimal("-1.00", digits: 2, separator: 46) }
        #expect(try DecimalAmount.parseMinor("2933") == 2933)
        #expect((try? DecimalAmount.parseMinor("29.33")) == nil)
        #expect((try? DecimalAmount.parseMinor("-5")) == nil)
        #expect((try? DecimalAmount.parseMinor("1000000000001")) == nil)
    }

    @Test func conversionRoundsHalfToEven() throws {
        let half = try #require(DecimalRate("0.5"))
        #expect([1, 3, 5, 7, 9, 2].map { half.convert($0, fromDigits: 2, toDigits: 2) } == [0, 2, 2, 4, 4, 1])
        let rate = try #require(DecimalRate("0.88"))
        #expect(rate.convert(2933, fromDigits: 2, toDigits: 2) == 2581)  // 2581.04
        #expect(rate.convert(1250, fromDigits: 2, toDigits: 2) == 1100)  // exact
        #expect(rate.convert(1177, fromDigits: 2, toDigits: 2) == 1036)  // 1035.76
        #expect(rate.convert(0, fromDigits: 2, toDigits: 2) == 0)
        let ninety = try #require(DecimalRate("0.9"))
        #expect(ninety.convert(25, fromDigits: 2, toDigits: 2) == 22)  // 22.5 → even 22
        #expect(ninety.convert(35, fromDigits: 2, toDigits: 2) == 32)  // 31.5 → even 32
        #expect(ninety.convert(15, fromDigits: 2, toDigits: 2) == 14)  // 13.5 → even 14
        let yen = try #require(DecimalRate("150.5"))
        #expect(yen.convert(1000, fromDigits: 2, toDigits: 0) == 1505)  // 10 USD
        #expect(yen.convert(1, fromDigits: 2, toDigits: 0) == 2)  // 1.505
        #expect(try #require(DecimalRate("0.333")).convert(100, fromDigits: 2, toDigits: 3) == 333)  // 1 EUR in fils
        #expect(try #require(DecimalRate("0.0125")).convert(100, fromDigits: 0, toDigits: 2) == 125)  // 100 JPY
        #expect(try #require(DecimalRate("0.005")).convert(100, fromDigits: 0, toDigits: 2) == 50)
        #expect(try #require(DecimalRate("0.005")).convert(1, fromDigits: 0, toDigits: 2) == 0)  // 0.5 → 0
        #expect(try #require(DecimalRate("0.015")).convert(1, fromDigits: 0, toDigits: 2) == 2)  // 1.5 → 2
        #expect(try #require(DecimalRate("1000000")).convert(1_000_000_000_000, fromDigits: 2, toDigits: 2) == nil)
        for bad in ["0", "0.0", "-1", "1e3", "abc", ".", "1.", "", "1.2.3", "1234567890123456789"] {
            #expect(DecimalRate(bad) == nil, "\(bad)")
        }
        #expect(DecimalRate(".5") != nil)

        let mapping = #"""
            {"columns": {"customer": 1, "at": 2, "total": 3}, "type": "purchase", "currency": "USD",
             "amount": "decimal", "id": "x-{line}", "convert": {"to": "EUR", "rate": "0.9"}}
            """#
        let converted = try Self.event(try Self.csv("c-1,2026-11-20,0.25\n", mapping)[1])
        #expect(converted.total == Money(minorUnits: 22, currency: .eur))
        #expect(converted.data == ["original_total": .integer(25), "original_currency": .string("USD")])
    }

    /// A template of text around {line} cannot repeat an id, so the reader does not remember them; one with a column
    /// can, even with {line} in it ("11" then line 1 and "1" then line 11 are both "111"), and the repeat is reported.
    @Test func idTemplatesThatCanRepeatAreChecked() throws {
        let text = (1...12).map { "\($0 == 11 ? "1" : $0 == 1 ? "11" : "9"),c-\($0),2026-11-20,1.00" }
            .joined(separator: "\n")
        func mapping(_ template: String) -> String {
            #"{"columns": {"customer": 2, "at": 3, "total": 4}, "type": "purchase", "currency": "EUR", "#
                + #""amount": "decimal", "id": "\#(template)"}"#
        }
        let lineOnly = try Self.csv(text, mapping("o-{line}-{line}"))
        #expect(lineOnly.values.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(try CompiledCSVMapping(try CSVMapping.decode(json: mapping("o-{line}")), header: nil).idsAreUniquePerLine)

        let withColumn = try Self.csv(text, mapping("{1}{line}"))
        #expect(
            Self.message(withColumn[11])
                == #"the id "111" repeats the one of line 1: the mapping's id template must make ids unique "#
                + "(include {line})")
        #expect(withColumn.count == 12)
        #expect(try !CompiledCSVMapping(try CSVMapping.decode(json: mapping("{1}{line}")), header: nil).idsAreUniquePerLine)
        #expect(try !CompiledCSVMapping(try CSVMapping.decode(json: mapping("o-{1}")), header: nil).idsAreUniquePerLine)
    }

    @Test func mappingValidation() throws {
        func problem(_ json: String) -> String? {
            do {
                _ = try CSVMapping.decode(json: json, file: "m.json")
                return nil
            } catch {
                return error.description
            }
        }
        let base = #""columns": {"customer": 1, "at": 2}, "type": "visit", "id": "v-{line}""#
        let purchase = #""columns": {"customer": 1, "at": 2, "total": 3}, "type": "purchase", "id": "x""#
        #expect(problem("{\(base)}") == nil)
        #expect(
            problem("{\(base), \"date-format\": \"iso8601\"}")?.contains("field 'date-format': unknown field") == true)
        #expect(problem(#"{"type": "visit", "id": "x"}"#) == "m.json: invalid column mapping: missing field 'columns'")
        #expect(
            problem(#"{"columns": {"at": 2}, "type": "visit", "id": "x"}"#)
                == "m.json: invalid column mapping: missing field 'columns.customer'")
        #expect(
            problem(#"{"columns": {"customer": 0, "at": 2}, "type": "visit", "id": "x"}"#)
                == "m.json: invalid column mapping: field 'columns.customer': column positions start at 1")
        #expect(
            problem(#"{\#(purchase), "currency": "USD", "amount": "decimal", "convert": {"to": "EUR", "rate": 0.88}}"#)
                == "m.json: invalid column mapping: field 'convert.rate': the rate must be a string like \"0.88\", "
                + "so that it stays an exact decimal")
        #expect(
            problem("{\(base), \"delimiter\": \"|\"}")?.contains(#"must be ",", ";", "\t" or "whitespace""#) == true)
        #expect(problem("{\(base), \"currency\": \"XYZ\"}")?.contains("unknown currency 'XYZ'") == true)
        #expect(problem("not json")?.hasPrefix("m.json: invalid column mapping: not valid JSON") == true)
        #expect(
            problem(#"{"columns": {"customer": "cust", "at": 2}, "type": "visit", "id": "x"}"#)
                == #"m.json: invalid column mapping: customer refers to the column "cust" by name, which needs "#
                + #""header": true"#)
        #expect(
            problem(#"{"columns": {"customer": 1, "at": 2}, "id": "x"}"#)
                == #"m.json: invalid column mapping: give the event type: "type": "purchase", or a column in "#
                + "columns.type")
        #expect(
            problem(#"{"columns": {"customer": 1, "at": 2, "type": 3}, "type": "visit", "id": "x"}"#)
                == #"m.json: invalid column mapping: give either "type" or columns.type, not both"#)
        #expect(
            problem(#"{"columns": {"customer": 1, "at": 2}, "type": "visit"}"#)?
                .hasPrefix(#"m.json: invalid column mapping: give the event ids: an "id" template"#) == true)
        #expect(
            problem(#"{\#(purchase), "amount": "minor"}"#)?
                .hasPrefix("m.json: invalid column mapping: give the currency of the totals") == true)
        #expect(
            problem(#"{\#(purchase), "currency": "EUR"}"#)
                == #"m.json: invalid column mapping: say how totals are written: "amount": "decimal" (29.33) or "#
                + #""minor" (2933)"#)
        #expect(
            problem(#"{"columns": {"customer": 1, "at": 2}, "type": "visit", "id": "x-{line"}"#)
                == #"m.json: invalid column mapping: the id template "x-{line" has a '{' without '}'"#)
        #expect(
            problem(#"{"columns": {"customer": 1, "at": 2}, "type": "visit", "id": "x-{order}"}"#)?
                .contains("the id template's {order} names a column, which needs \"header\": true") == true)
        #expect(
            problem(#"{\#(purchase), "currency": "EUR", "amount": "decimal", "convert": {"to": "USD", "rate": "-1"}}"#)?
                .contains("convert.rate must be a positive decimal") == true)
        #expect(
            problem("{\(base), \"delimiter\": \",\", \"decimal_separator\": \",\"}")?
                .contains(#""decimal_separator": "," cannot be used with the "," delimiter"#) == true)

        // Resolving names against a file's header happens when the reader opens the file.
        let named = try CSVMapping.decode(
            json: #"{"header": true, "columns": {"customer": "cust", "at": "day"}, "type": "visit", "id": "{line}"}"#)
        #expect(throws: EventInputError(
            file: "x.csv", line: 2,
            message: #"column mapping: the header has no column "day" (for at); it has "cust", "date""#)
        ) {
            try EventReader(contents: "\ncust,date\nc-1,2026-11-20\n", file: "x.csv", format: .csv(named))
        }
        #expect(Array(try EventReader(contents: "", file: "x.csv", format: .csv(named))).isEmpty)

        // A mapping survives encoding and decoding.
        let cdnow = try CSVMapping.load(path: Self.exampleData.appendingPathComponent("cdnow.mapping.json").path)
        let encoded = try JSONEncoder().encode(cdnow)
        #expect(try JSONDecoder().decode(CSVMapping.self, from: encoded) == cdnow)
    }

    // MARK: - CDNOW

    @Test func cdnowMasterDecodesCompletely() throws {
        let path = Self.exampleData.appendingPathComponent("CDNOW_master.txt").path
        var mapping = try CSVMapping.load(path: Self.exampleData.appendingPathComponent("cdnow.mapping.json").path)
        #expect(mapping.convert == CSVMapping.Conversion(to: .eur, rate: "0.88"))

        let started = ContinuousClock.now
        let (events, errors) = try EventReader(path: path, format: .csv(mapping)).readAll()
        let elapsed = ContinuousClock.now - started
        print("CDNOW master: \(events.count) events in \(elapsed)")
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        #expect(events.count == 69_659)
        #expect(Set(events.map(\.customerID)).count == 23_570)
        #expect(Set(events.map(\.id)).count == events.count)
        #expect(events.first?.id == "cdnow-2" && events.first?.customerID == "00001")
        #expect(events.map(\.at).min() == (try Self.instant("1997-01-01")))
        #expect(events.map(\.at).max() == (try Self.instant("1998-06-30")))
        #expect(events.allSatisfy { $0.type == "purchase" && $0.total?.currency == .eur })
        // Independently computed with Python's decimal module: the sum of dollar_value in cents, and the sum of each
        // row converted at 0.88 with ROUND_HALF_EVEN.
        #expect(events.reduce(0) { $0 + ($1.data["original_total"].flatMap(\.integer) ?? 0) } == 250_031_563)
        #expect(events.reduce(0) { $0 + ($1.total?.minorUnits ?? 0) } == 220_024_244)
        #expect(events.reduce(0) { $0 + ($1.data["cds"].flatMap(\.integer) ?? 0) } == 167_881)

        mapping.convert = nil
        let usd = try EventReader(path: path, format: .csv(mapping)).readAll()
        #expect(usd.errors.isEmpty)
        #expect(usd.events.reduce(0) { $0 + ($1.total?.minorUnits ?? 0) } == 250_031_563)
        #expect(usd.events.allSatisfy { $0.total?.currency == .usd && $0.data["original_total"] == nil })
        #expect(usd.events.map(\.id) == events.map(\.id))
    }

    @Test func cdnowSampleDecodesCompletely() throws {
        let path = Self.exampleData.appendingPathComponent("CDNOW_sample.txt").path
        let mapping = try CSVMapping.load(
            path: Self.exampleData.appendingPathComponent("cdnow-sample.mapping.json").path)
        let (events, errors) = try EventReader(path: path, format: .csv(mapping)).readAll()
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        #expect(events.count == 6_919)
        #expect(Set(events.map(\.customerID)).count == 2_357)
        #expect(Set(events.map(\.id)).count == events.count)
        #expect(events.first?.customerID == "0001" && events.first?.data["master_customer"] == .string("00004"))
        #expect(events.reduce(0) { $0 + ($1.data["original_total"].flatMap(\.integer) ?? 0) } == 24_409_194)
    }

    @Test func ndjsonThroughput() throws {
        var text = ""
        for index in 0..<10_000 {
            text += #"{"id":"e-\#(index)","type":"purchase","customer":"c-\#(index % 5000)","#
                + #""at":"2026-11-20T10:15:00Z","total":4999,"currency":"EUR","order":"o-\#(index)","#
                + #""items":[{"sku":"A1","category":"shoes","qty":1,"price":4999}],"channel":"web"}"# + "\n"
        }
        let started = ContinuousClock.now
        let (events, errors) = try EventReader(contents: text, format: .ndjson).readAll()
        let elapsed = ContinuousClock.now - started
        print("NDJSON: \(events.count) events in \(elapsed)")
        #expect(events.count == 10_000 && errors.isEmpty)
    }
}

extension JSONValue {
    fileprivate var integer: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }
}
