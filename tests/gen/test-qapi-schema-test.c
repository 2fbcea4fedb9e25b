/* SPDX-License-Identifier: MIT */
/*
 * Exercises the code generated from QEMU's positive test schema
 * (qapi-schema-test.json): every type round-trips JSON -> C -> JSON (and
 * through qapi_clone_*); invalid inputs are rejected with QEMU's messages
 * (checklist items 122-127) and leak nothing (ASan); marshallers,
 * registration flags, events, the compat policy and introspection.
 * Built and run by run-schema-test.sh against freshly generated code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qapi-commands.h"
#include "qapi-emit-events.h"
#include "qapi-events.h"
#include "qapi-features.h"
#include "qapi-init-commands.h"
#include "qapi-introspect.h"
#include "qapi-types.h"
#include "qapi-visit.h"
#include "include/qapi-commands-sub-module.h"
#include "qapi-commands-sub-sub-module.h"
#include "qmpkit/session.h"

static int failures, checks;

#define CHECK(c)                                                             \
    do {                                                                     \
        checks++;                                                            \
        if (!(c)) {                                                          \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #c);                                                     \
        }                                                                    \
    } while (0)

static qk_json *parse(const char *text)
{
    qk_json_error e;
    qk_json *v = qk_json_parse(text, strlen(text), QK_JSON_QMP, &e);
    if (!v) {
        fprintf(stderr, "bad test JSON: %s: %s\n", text, e.message);
        exit(2);
    }
    return v;
}

static int roundtrips, fast_ok, fast_fallback;

/* The fast text decoder must give the same value, or give up. */
#define FAST(T, j_, must_fail)                                               \
    do {                                                                     \
        char *t_ = qk_json_to_string(j_, 0, NULL);                           \
        qk_rd r_;                                                            \
        T *f_ = NULL;                                                        \
        qk_rd_init(&r_, t_, strlen(t_));                                     \
        if (visit_rd_##T(&r_, &f_) && qk_rd_end(&r_)) {                      \
            qk_json *fb_ = visit_out_##T(f_);                                \
            CHECK(!(must_fail));                                             \
            if (must_fail)                                                   \
                fprintf(stderr, "%d: fast path accepted %s\n", __LINE__, t_); \
            CHECK(fb_ && qk_json_equal(j_, fb_));                            \
            qk_json_unref(fb_);                                              \
            fast_ok++;                                                       \
        } else {                                                             \
            fast_fallback++;                                                 \
        }                                                                    \
        qapi_free_##T(f_);                                                   \
        qk_free(t_);                                                         \
    } while (0)

/* JSON -> C -> JSON and clone -> JSON, both equal to the input. */
#define ROUNDTRIP(T, text)                                                   \
    do {                                                                     \
        qk_json *j_ = parse(text);                                           \
        T *o_ = NULL;                                                        \
        qk_error *e_ = NULL;                                                 \
        bool ok_ = visit_type_##T(NULL, NULL, j_, &o_, &e_);                 \
        if (!ok_)                                                            \
            fprintf(stderr, "%d: %s: %s\n", __LINE__, text,                  \
                    qk_error_get_desc(e_));                                  \
        CHECK(ok_);                                                          \
        qk_json *b_ = visit_out_##T(o_);                                     \
        CHECK(b_ && qk_json_equal(j_, b_));                                  \
        if (b_ && !qk_json_equal(j_, b_)) {                                  \
            char *s_ = qk_json_to_string(b_, 0, NULL);                       \
            fprintf(stderr, "  got %s\n", s_);                               \
            qk_free(s_);                                                     \
        }                                                                    \
        T *c_ = qapi_clone_##T(o_);                                          \
        qk_json *b2_ = visit_out_##T(c_);                                    \
        CHECK(b2_ && qk_json_equal(j_, b2_));                                \
        qapi_free_##T(c_);                                                   \
        qapi_free_##T(o_);                                                   \
        qk_error_free(e_);                                                   \
        qk_json_unref(b_);                                                   \
        qk_json_unref(b2_);                                                  \
        FAST(T, j_, false);                                                  \
        qk_json_unref(j_);                                                   \
        roundtrips++;                                                        \
    } while (0)

static int rejections;

#define REJECT(T, text, msg)                                                 \
    do {                                                                     \
        qk_json *j_ = parse(text);                                           \
        T *o_ = NULL;                                                        \
        qk_error *e_ = NULL;                                                 \
        bool ok_ = visit_type_##T(NULL, "arg", j_, &o_, &e_);                \
        CHECK(!ok_ && !o_ && e_);                                            \
        if (e_ && strcmp(qk_error_get_desc(e_), msg)) {                      \
            fprintf(stderr, "%d: %s\n  want: %s\n  got:  %s\n", __LINE__,    \
                    text, msg, qk_error_get_desc(e_));                       \
            CHECK(!"message");                                               \
        }                                                                    \
        CHECK(!e_ || qk_error_get_class(e_) == QK_ERROR_GENERIC);            \
        qk_error_free(e_);                                                   \
        FAST(T, j_, true);                                                   \
        qk_json_unref(j_);                                                   \
        rejections++;                                                        \
    } while (0)

static void test_roundtrip(void)
{
    ROUNDTRIP(TestStruct, "{'integer': -1, 'boolean': true, 'string': 'x'}");
    ROUNDTRIP(NestedEnumsOne, "{'enum1': 'value1', 'enum3': 'value3'}");
    ROUNDTRIP(NestedEnumsOne, "{'enum1': 'value1', 'enum2': 'value2', "
                              "'enum3': 'value3', 'enum4': 'value4'}");
    ROUNDTRIP(Empty1, "{}");
    ROUNDTRIP(Empty2, "{}");
    ROUNDTRIP(Union, "{'type': 'value2'}");
    ROUNDTRIP(UserDefOne, "{'integer': 42, 'string': 'str'}");
    ROUNDTRIP(UserDefOne, "{'integer': 42, 'string': '', 'enum1': 'value4'}");
    ROUNDTRIP(UserDefTwo,
              "{'string0': 'a', 'dict1': {'string1': 'b', 'dict2': "
              "{'userdef': {'integer': 1, 'string': 'c'}, 'string': 'd'}, "
              "'dict3': {'userdef': {'integer': 2, 'string': 'e'}, "
              "'string': 'f'}}}");
    ROUNDTRIP(UserDefA, "{'boolean': false, 'a_b': 3}");
    ROUNDTRIP(UserDefB, "{'intb': 3, 'a-b': true}");
    ROUNDTRIP(UserDefFlatUnion,
              "{'integer': 1, 'string': 's', 'enum1': 'value1', "
              "'boolean': true}");
    ROUNDTRIP(UserDefFlatUnion,
              "{'integer': 1, 'string': 's', 'enum1': 'value2', 'intb': 7}");
    ROUNDTRIP(UserDefFlatUnion,
              "{'integer': 1, 'string': 's', 'enum1': 'value3', 'intb': 7, "
              "'a-b': false}");
    ROUNDTRIP(UserDefFlatUnion,
              "{'integer': 1, 'string': 's', 'enum1': 'value4'}");
    ROUNDTRIP(UserDefFlatUnion2,
              "{'string': 's', 'enum1': 'value1', 'string1': 'a', "
              "'string2': 'b'}");
    ROUNDTRIP(UserDefFlatUnion2,
              "{'integer': 9, 'string': 's', 'enum1': 'value2', 'intb': 1}");
    ROUNDTRIP(TestUnionInUnion,
              "{'type': 'value-a', 'type-a': 'value-a1', 'integer': 2, "
              "'name': 'n'}");
    ROUNDTRIP(TestUnionInUnion,
              "{'type': 'value-a', 'type-a': 'value-a2', 'integer': 2, "
              "'size': 3}");
    ROUNDTRIP(TestUnionInUnion,
              "{'type': 'value-b', 'integer': 2, 'onoff': false}");
    /* tags after the members they select, past brackets in strings (the
     * fast decoder's tag look-up only matches brackets) and an escape */
    ROUNDTRIP(UserDefFlatUnion,
              "{'boolean': true, 'string': 'a]b}[{\"', 'integer': 1, "
              "'enum1': 'value1'}");
    ROUNDTRIP(UserDefFlatUnion,
              "{'boolean': true, 'string': 'a]b}[{', 'integer': 1, "
              "'enum1': 'value1'}");
    ROUNDTRIP(TestUnionInUnion,
              "{'integer': 2, 'name': 'n', 'type-a': 'value-a1', "
              "'type': 'value-a'}");
    /* alternates: every branch */
    ROUNDTRIP(WrapAlternate, "{'alt': 42}");
    ROUNDTRIP(WrapAlternate, "{'alt': 'value2'}");
    ROUNDTRIP(WrapAlternate, "{'alt': null}");
    ROUNDTRIP(WrapAlternate,
              "{'alt': {'integer': 1, 'string': 's', 'enum1': 'value2', "
              "'intb': 3}}");
    ROUNDTRIP(UserDefAlternate, "-5");
    ROUNDTRIP(AltEnumBool, "true");
    ROUNDTRIP(AltEnumBool, "'value1'");
    ROUNDTRIP(AltEnumNum, "1.5");
    ROUNDTRIP(AltEnumNum, "3");
    ROUNDTRIP(AltNumEnum, "'value3'");
    ROUNDTRIP(AltEnumInt, "7");
    ROUNDTRIP(AltListInt, "[1, 2, 3]");
    ROUNDTRIP(AltListInt, "[]");
    ROUNDTRIP(AltListInt, "4");
    ROUNDTRIP(AltStrObj, "'s'");
    ROUNDTRIP(AltStrObj, "{'integer': 1, 'boolean': false, 'string': 'x'}");
    /* every builtin list, any, size */
    ROUNDTRIP(ArrayStruct,
              "{'integer': [-9223372036854775808, 9223372036854775807], "
              "'s8': [-128, 127], 's16': [-32768, 32767], "
              "'s32': [-2147483648, 2147483647], 's64': [1], "
              "'u8': [0, 255], 'u16': [65535], 'u32': [4294967295], "
              "'u64': [18446744073709551615, 0], 'number': [1.5, -0.25, 1e300], "
              "'boolean': [true, false], 'string': ['a', '', 'c\\u00e9'], "
              "'sz': [18446744073709551615], "
              "'any': [null, 1, 'x', [1, {'a': [true]}], {}], "
              "'user': ['good', 'ugly']}");
    ROUNDTRIP(ArrayStruct,
              "{'integer': [], 's8': [], 's16': [], 's32': [], 's64': [], "
              "'u8': [], 'u16': [], 'u32': [], 'u64': [], 'number': [], "
              "'boolean': [], 'string': []}");
    ROUNDTRIP(UserDefOptions, "{}");
    ROUNDTRIP(UserDefOptions,
              "{'i64': [1, -2], 'u64': [3], 'u16': [4], 'i64x': -5, "
              "'u64x': 18446744073709551615}");
    ROUNDTRIP(UserDefOptions, "{'i64': []}");
    /* lists of structs holding lists of unions holding lists */
    ROUNDTRIP(__org_qemu_x_Struct2,
              "{'array': [{'__org.qemu_x-member1': '__org.qemu_x-value', "
              "'array': [{'__org.qemu_x-member1': '__org.qemu_x-value', "
              "'array': []}]}, {'__org.qemu_x-member1': "
              "'__org.qemu_x-value', 'array': []}]}");
    ROUNDTRIP(__org_qemu_x_Struct,
              "{'__org.qemu_x-member1': '__org.qemu_x-value', "
              "'__org.qemu_x-member2': 'm', 'wchar-t': 3}");
    ROUNDTRIP(__org_qemu_x_Alt, "{'__org.qemu_x-member1': '__org.qemu_x-value'}");
    ROUNDTRIP(__org_qemu_x_Alt1, "'s'");
    ROUNDTRIP(ForceArrays,
              "{'unused1': [{'integer': 1, 'string': 'a'}], "
              "'unused2': [], 'unused3': [{'integer': 0, 'boolean': true, "
              "'string': ''}]}");
    ROUNDTRIP(EventStructOne,
              "{'struct1': {'integer': 1, 'string': 'a'}, 'string': 'b', "
              "'enum2': 'value1'}");
    ROUNDTRIP(SecondArrayRef, "{'s': ['bad', 'good']}");
    ROUNDTRIP(FeatureStruct1, "{'foo': 1}");
    ROUNDTRIP(FeatureUnion1, "{'tag': 'eins', 'foo': 2}");
    ROUNDTRIP(FeatureUnion1, "{'tag': 'drei'}");
    ROUNDTRIP(FeatureAlternate1, "{'foo': 2}");
    ROUNDTRIP(CondFeatureStruct4, "{'foo': 2}");
#if defined(TEST_IF_STRUCT)
#if defined(TEST_IF_STRUCT_MEMBER)
    ROUNDTRIP(TestIfStruct, "{'foo': 1, 'bar': 2, 'baz': 'z'}");
#else
    ROUNDTRIP(TestIfStruct, "{'foo': 1}");
#endif
#endif
    /* lists of lists: UserDefOneList inside ForceArrays inside a list is
     * the deepest the language goes; nest the struct lists instead */
    ROUNDTRIP(UserDefOneList, "[{'integer': 1, 'string': 'a'}, "
                              "{'integer': 2, 'string': 'b', "
                              "'enum1': 'value1'}]");
}

/* An ArrayStruct with every list empty except field = [val]. */
static const char *arr(const char *field, const char *val)
{
    static char buf[512];
    static const char *const f[] = {"integer", "s8", "s16", "s32", "s64",
                                    "u8", "u16", "u32", "u64", "number",
                                    "boolean", "string"};
    bool done = false;
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{");
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        bool me = !strcmp(f[i], field);
        done |= me;
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s'%s': [%s]",
                              i ? ", " : "", f[i], me ? val : "");
    }
    if (!done)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ", '%s': [%s]", field,
                              val);
    snprintf(buf + n, sizeof(buf) - n, "}");
    return buf;
}

static void test_reject(void)
{
    /* wrong root, missing, unexpected, wrong JSON types */
    REJECT(UserDefOne, "[]", "Invalid parameter type for 'arg', expected: object");
    REJECT(UserDefOne, "{}", "Parameter 'arg.integer' is missing");
    REJECT(UserDefOne, "{'integer': 1}", "Parameter 'arg.string' is missing");
    REJECT(UserDefOne, "{'integer': 1, 'string': 's', 'extra': 1}",
           "Parameter 'arg.extra' is unexpected");
    /* missing and type errors take precedence over unexpected members */
    REJECT(UserDefOne, "{'extra': 1, 'string': 's'}",
           "Parameter 'arg.integer' is missing");
    REJECT(UserDefOne, "{'integer': '1', 'string': 's'}",
           "Invalid parameter type for 'arg.integer', expected: integer");
    REJECT(UserDefOne, "{'integer': 1.0, 'string': 's'}",
           "Invalid parameter type for 'arg.integer', expected: integer");
    REJECT(UserDefOne, "{'integer': 9223372036854775808, 'string': 's'}",
           "Invalid parameter type for 'arg.integer', expected: integer");
    REJECT(UserDefOne, "{'integer': 1, 'string': 2}",
           "Invalid parameter type for 'arg.string', expected: string");
    REJECT(UserDefOne, "{'integer': 1, 'string': null}",
           "Invalid parameter type for 'arg.string', expected: string");
    REJECT(TestStruct, "{'integer': 1, 'boolean': 'true', 'string': 's'}",
           "Invalid parameter type for 'arg.boolean', expected: boolean");
    REJECT(UserDefOne, "{'integer': 1, 'string': 's', 'enum1': 'bogus'}",
           "Parameter 'enum1' does not accept value 'bogus'");
    REJECT(UserDefOne, "{'integer': 1, 'string': 's', 'enum1': 1}",
           "Invalid parameter type for 'arg.enum1', expected: string");
    /* nested paths */
    REJECT(UserDefTwo,
           "{'string0': 'a', 'dict1': {'string1': 'b', 'dict2': "
           "{'userdef': {'string': 'c'}, 'string': 'd'}}}",
           "Parameter 'arg.dict1.dict2.userdef.integer' is missing");
    REJECT(UserDefTwo,
           "{'string0': 'a', 'dict1': {'string1': 'b', 'dict2': "
           "{'userdef': {'integer': 1, 'string': 'c', 'x': 0}, "
           "'string': 'd'}}}",
           "Parameter 'arg.dict1.dict2.userdef.x' is unexpected");
    REJECT(UserDefTwo, "{'string0': 'a', 'dict1': []}",
           "Invalid parameter type for 'arg.dict1', expected: object");
    REJECT(__org_qemu_x_Struct2,
           "{'array': [{'__org.qemu_x-member1': '__org.qemu_x-value', "
           "'array': []}, {'array': []}]}",
           "Parameter 'arg.array[1].__org.qemu_x-member1' is missing");
    REJECT(__org_qemu_x_Struct2,
           "{'array': [{'__org.qemu_x-member1': '__org.qemu_x-value', "
           "'array': [{'__org.qemu_x-member1': '__org.qemu_x-value', "
           "'array': 5}]}]}",
           "Invalid parameter type for 'arg.array[0].array[0].array', "
           "expected: array");
    REJECT(UserDefOneList, "[{'integer': 1, 'string': 'a'}, {'integer': 1}]",
           "Parameter 'arg[1].string' is missing");
    REJECT(UserDefOneList, "{}",
           "Invalid parameter type for 'arg', expected: array");
    /* lists of scalars: type errors name the element, range errors and
     * enum values the bare name ('null' inside lists) */
    REJECT(ArrayStruct,
           "{'integer': [1, 'x'], 's8': [], 's16': [], 's32': [], "
           "'s64': [], 'u8': [], 'u16': [], 'u32': [], 'u64': [], "
           "'number': [], 'boolean': [], 'string': []}",
           "Invalid parameter type for 'arg.integer[1]', expected: integer");
#define ARR(field, val) arr(field, val)
    REJECT(ArrayStruct, ARR("s8", "128"), "Parameter 'null' expects int8_t");
    REJECT(ArrayStruct, ARR("s8", "-129"), "Parameter 'null' expects int8_t");
    REJECT(ArrayStruct, ARR("s16", "32768"), "Parameter 'null' expects int16_t");
    REJECT(ArrayStruct, ARR("s32", "-2147483649"),
           "Parameter 'null' expects int32_t");
    REJECT(ArrayStruct, ARR("u8", "256"), "Parameter 'null' expects uint8_t");
    REJECT(ArrayStruct, ARR("u8", "-1"), "Parameter 'null' expects uint8_t");
    REJECT(ArrayStruct, ARR("u16", "65536"), "Parameter 'null' expects uint16_t");
    REJECT(ArrayStruct, ARR("u32", "4294967296"),
           "Parameter 'null' expects uint32_t");
    REJECT(ArrayStruct, ARR("u64", "'1'"), "Parameter 'arg.u64[0]' expects uint64");
    REJECT(ArrayStruct, ARR("u64", "1.5"), "Parameter 'arg.u64[0]' expects uint64");
    REJECT(ArrayStruct, ARR("sz", "-1.5"), "Parameter 'arg.sz[0]' expects uint64");
    REJECT(ArrayStruct, ARR("number", "'1'"),
           "Invalid parameter type for 'arg.number[0]', expected: number");
    REJECT(ArrayStruct, ARR("boolean", "0"),
           "Invalid parameter type for 'arg.boolean[0]', expected: boolean");
    REJECT(ArrayStruct, ARR("string", "null"),
           "Invalid parameter type for 'arg.string[0]', expected: string");
    REJECT(ArrayStruct, ARR("user", "'good', 'nice'"),
           "Parameter 'null' does not accept value 'nice'");
    /* sized integers as members: bare member name */
    REJECT(UserDefOptions, "{'u16': [1, 70000]}",
           "Parameter 'null' expects uint16_t");
    REJECT(UserDefOptions, "{'i64x': 18446744073709551615}",
           "Invalid parameter type for 'arg.i64x', expected: integer");
    REJECT(UserDefOptions, "{'u64x': 'x'}", "Parameter 'arg.u64x' expects uint64");
    /* unions: the tag decides which members are known */
    REJECT(UserDefFlatUnion,
           "{'integer': 1, 'string': 's', 'enum1': 'value1', 'intb': 2, "
           "'boolean': true}",
           "Parameter 'arg.intb' is unexpected");
    REJECT(UserDefFlatUnion,
           "{'integer': 1, 'string': 's', 'enum1': 'value4', 'intb': 2}",
           "Parameter 'arg.intb' is unexpected");
    REJECT(UserDefFlatUnion,
           "{'integer': 1, 'string': 's', 'enum1': 'value2'}",
           "Parameter 'arg.intb' is missing");
    REJECT(UserDefFlatUnion,
           "{'integer': 1, 'string': 's', 'enum1': 'value9'}",
           "Parameter 'enum1' does not accept value 'value9'");
    REJECT(TestUnionInUnion,
           "{'type': 'value-a', 'type-a': 'value-a1', 'integer': 2}",
           "Parameter 'arg.name' is missing");
    /* alternates */
    REJECT(WrapAlternate, "{'alt': true}",
           "Invalid parameter type for 'alt', expected: UserDefAlternate");
    REJECT(WrapAlternate, "{'alt': 1.5}",
           "Invalid parameter type for 'arg.alt', expected: integer");
    REJECT(WrapAlternate, "{'alt': 'bogus'}",
           "Parameter 'alt' does not accept value 'bogus'");
    REJECT(WrapAlternate, "{'alt': {'integer': 1}}",
           "Parameter 'arg.alt.string' is missing");
    REJECT(WrapAlternate, "{'alt': {'integer': 1, 'string': 's', "
                          "'enum1': 'value4', 'x': 1}}",
           "Parameter 'arg.alt.x' is unexpected");
    REJECT(AltEnumBool, "1",
           "Invalid parameter type for 'arg', expected: AltEnumBool");
    REJECT(AltListInt, "[1, 'x']",
           "Invalid parameter type for 'arg[1]', expected: integer");
    REJECT(AltStrObj, "null", "Invalid parameter type for 'arg', expected: AltStrObj");
}

/* QEMU 7.2's screendump (filename, *device, *head, *format) answers
 * {"filename": "/dev/null", "zz": 1, "aa": 2, "format": "png", "yy": 3}
 * with "Parameter 'aa' is unexpected": visited keys leave its table in
 * member order. */
static int screendump_known(const void *obj, const char *key)
{
    static const char *const m[] = {"filename", "device", "head", "format"};
    (void)obj;
    for (int i = 0; i < 4; i++)
        if (!strcmp(key, m[i]))
            return i;
    return -1;
}

static void test_unexpected_order(void)
{
    qk_json *j = parse("{'filename': '/dev/null', 'zz': 1, 'aa': 2, "
                       "'format': 'png', 'yy': 3}");
    qk_error *e = NULL;
    qk_vpath root = {NULL, NULL, 0, false};
    CHECK(!qk_v_check_struct(&root, j, 2, screendump_known, NULL, &e));
    CHECK(e && !strcmp(qk_error_get_desc(e), "Parameter 'aa' is unexpected"));
    qk_error_free(e);
    qk_json_unref(j);
}

/* Unnamed roots render as <anonymous>. */
static void test_anonymous(void)
{
    qk_json *j = parse("{'x': 1}");
    UserDefZero *o = NULL;
    qk_error *e = NULL;
    CHECK(!visit_type_UserDefZero(NULL, NULL, j, &o, &e));
    CHECK(e && !strcmp(qk_error_get_desc(e), "Parameter 'integer' is missing"));
    qk_error_free(e);
    e = NULL;
    qk_json_unref(j);
    j = parse("1");
    CHECK(!visit_type_UserDefZero(NULL, NULL, j, &o, &e));
    CHECK(e && !strcmp(qk_error_get_desc(e),
                       "Invalid parameter type for '<anonymous>', expected: object"));
    qk_error_free(e);
    qk_json_unref(j);
}

static void test_names(void)
{
    CHECK(!strcmp(EnumOne_str(ENUM_ONE_VALUE3), "value3"));
    CHECK(ENUM_ONE__MAX == 4);
    CHECK(QENUM_TWO_VALUE2 == 1 && QENUM_TWO__MAX == 2);
    CHECK(!strcmp(__org_qemu_x_Enum_str(ORG_QEMU_X_ENUM___ORG_QEMU_X_VALUE),
                  "__org.qemu_x-value"));
    CHECK(MY_ENUM__MAX == 0);
    CHECK(qk_enum_find(&EnumOne_lookup, "value2") == ENUM_ONE_VALUE2);
    UserDefFlatUnion u;
    memset(&u, 0, sizeof(u));
    u.integer = 5;
    CHECK(qapi_UserDefFlatUnion_base(&u)->integer == 5);
    UserDefOptions op;
    op.has_i64x = true; /* has_ for optional scalars and lists */
    op.has_i64 = true;
    (void)op;
    CHECK(QAPI_FEATURE_DEPRECATED == 0 && QAPI_FEATURE_UNSTABLE == 1);
}

/* ---- handlers ---- */

static int calls;

Empty2 *qmp_user_def_cmd0(qk_error **errp)
{
    (void)errp;
    calls++;
    return qk_rt_zalloc(sizeof(Empty2));
}

void qmp_user_def_cmd(qk_error **errp)
{
    (void)errp;
    calls++;
}

void qmp_user_def_cmd1(UserDefOne *ud1a, qk_error **errp)
{
    (void)errp;
    CHECK(ud1a && ud1a->integer == 7);
    calls++;
}

UserDefTwo *qmp_user_def_cmd2(UserDefOne *ud1a, UserDefOne *ud1b,
                              qk_error **errp)
{
    (void)errp;
    calls++;
    UserDefTwo *r = qk_rt_zalloc(sizeof(*r));
    r->string0 = qk_rt_strdup("s0");
    r->dict1 = qk_rt_zalloc(sizeof(*r->dict1));
    r->dict1->string1 = qk_rt_strdup("s1");
    r->dict1->dict2 = qk_rt_zalloc(sizeof(*r->dict1->dict2));
    r->dict1->dict2->userdef = qapi_clone_UserDefOne(ud1a);
    r->dict1->dict2->string = qk_rt_strdup("s2");
    if (ud1b) {
        r->dict1->dict3 = qk_rt_zalloc(sizeof(*r->dict1->dict3));
        r->dict1->dict3->userdef = qapi_clone_UserDefOne(ud1b);
        r->dict1->dict3->string = qk_rt_strdup("s3");
    }
    return r;
}

void qmp_cmd_success_response(qk_error **errp)
{
    (void)errp;
}

void qmp_coroutine_cmd(qk_error **errp)
{
    (void)errp;
}

int64_t qmp_guest_get_time(int64_t a, bool has_b, int64_t b, qk_error **errp)
{
    if (a < 0) {
        qk_error_setg(errp, QK_ERROR_GENERIC, "negative");
        return 0;
    }
    return a + (has_b ? b : 1000);
}

QObject *qmp_guest_sync(QObject *arg, qk_error **errp)
{
    (void)errp;
    return qk_json_ref(arg);
}

void qmp_boxed_struct(UserDefZero *arg, qk_error **errp)
{
    (void)errp;
    CHECK(arg->integer == 3);
    calls++;
}

void qmp_boxed_union(UserDefFlatUnion *arg, qk_error **errp)
{
    (void)errp;
    CHECK(arg->enum1 == ENUM_ONE_VALUE2 && arg->u.value2.intb == 4);
    calls++;
}

void qmp_boxed_empty(Empty1 *arg, qk_error **errp)
{
    (void)arg;
    (void)errp;
}

void qmp_test_flags_command(qk_error **errp)
{
    (void)errp;
}

void qmp___org_qemu_x_command(__org_qemu_x_EnumList *a,
                              __org_qemu_x_StructList *b,
                              __org_qemu_x_Union *c, __org_qemu_x_Alt *d,
                              qk_error **errp)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    (void)errp;
}

#if defined(TEST_IF_UNION) && defined(TEST_IF_STRUCT)
void qmp_test_if_union_cmd(TestIfUnion *union_cmd_arg, qk_error **errp)
{
    (void)union_cmd_arg;
    (void)errp;
}
#endif
#if defined(TEST_IF_ALT) && defined(TEST_IF_STRUCT)
void qmp_test_if_alternate_cmd(TestIfAlternate *alt_cmd_arg, qk_error **errp)
{
    (void)alt_cmd_arg;
    (void)errp;
}
#endif
#if defined(TEST_IF_CMD) && defined(TEST_IF_STRUCT)
UserDefThree *qmp_test_if_cmd(TestIfStruct *arg, qk_error **errp)
{
    (void)arg;
    (void)errp;
    return qk_rt_zalloc(sizeof(UserDefThree));
}
#endif

UserDefThree *qmp_test_cmd_return_def_three(qk_error **errp)
{
    (void)errp;
    UserDefThree *r = qk_rt_zalloc(sizeof(*r));
    r->string0 = qk_rt_strdup("three");
    return r;
}

FeatureStruct1 *qmp_test_features0(FeatureStruct0 *fs0, FeatureStruct1 *fs1,
                                   FeatureStruct2 *fs2, FeatureStruct3 *fs3,
                                   FeatureStruct4 *fs4,
                                   CondFeatureStruct1 *cfs1,
                                   CondFeatureStruct2 *cfs2,
                                   CondFeatureStruct3 *cfs3,
                                   CondFeatureStruct4 *cfs4, qk_error **errp)
{
    (void)fs0, (void)fs2, (void)fs3, (void)fs4, (void)cfs1, (void)cfs2;
    (void)cfs3, (void)cfs4, (void)errp;
    FeatureStruct1 *r = qk_rt_zalloc(sizeof(*r));
    r->foo = fs1 ? fs1->foo : 11;
    return r;
}

void qmp_test_command_features1(qk_error **errp)
{
    (void)errp;
}

void qmp_test_command_features3(qk_error **errp)
{
    (void)errp;
}

void qmp_test_command_cond_features1(qk_error **errp)
{
    (void)errp;
}

void qmp_test_command_cond_features2(qk_error **errp)
{
    (void)errp;
}

void qmp_test_command_cond_features3(qk_error **errp)
{
    (void)errp;
}

/* Runs a marshaller; returns the reply text ("error: DESC" on error). */
static char *call(qk_command_fn fn, const char *args)
{
    qk_json *a = parse(args);
    qk_json *ret = NULL;
    qk_error *err = NULL;
    fn(a, &ret, &err, NULL);
    char *s;
    if (err) {
        CHECK(!ret);
        size_t n = strlen(qk_error_get_desc(err)) + 8;
        s = malloc(n);
        snprintf(s, n, "error: %s", qk_error_get_desc(err));
    } else {
        char *t = ret ? qk_json_to_string(ret, 0, NULL) : NULL;
        const char *src = t ? t : "(none)";
        s = malloc(strlen(src) + 1);
        strcpy(s, src);
        qk_free(t);
    }
    qk_error_free(err);
    qk_json_unref(ret);
    qk_json_unref(a);
    return s;
}

#define CALL(fn, args, want)                                                 \
    do {                                                                     \
        char *got_ = call(fn, args);                                         \
        if (strcmp(got_, want))                                              \
            fprintf(stderr, "%d: want %s\n   got %s\n", __LINE__, want, got_); \
        CHECK(!strcmp(got_, want));                                          \
        free(got_);                                                          \
    } while (0)

static void test_commands(void)
{
    CALL(qmp_marshal_user_def_cmd, "{}", "(none)");
    CALL(qmp_marshal_user_def_cmd, "{'a': 1}", "error: Parameter 'a' is unexpected");
    CALL(qmp_marshal_user_def_cmd0, "{}", "{}");
    CALL(qmp_marshal_user_def_cmd1, "{'ud1a': {'integer': 7, 'string': 's'}}",
         "(none)");
    CALL(qmp_marshal_user_def_cmd1, "{}", "error: Parameter 'ud1a' is missing");
    CALL(qmp_marshal_user_def_cmd1, "{'ud1a': {'integer': 7}}",
         "error: Parameter 'ud1a.string' is missing");
    CALL(qmp_marshal_user_def_cmd2,
         "{'ud1a': {'integer': 1, 'string': 'a'}, "
         "'ud1b': {'integer': 2, 'string': 'b', 'enum1': 'value1'}}",
         "{\"string0\": \"s0\", \"dict1\": {\"string1\": \"s1\", \"dict2\": "
         "{\"userdef\": {\"integer\": 1, \"string\": \"a\"}, \"string\": "
         "\"s2\"}, \"dict3\": {\"userdef\": {\"integer\": 2, \"string\": "
         "\"b\", \"enum1\": \"value1\"}, \"string\": \"s3\"}}}");
    CALL(qmp_marshal_guest_get_time, "{'a': 1}", "1001");
    CALL(qmp_marshal_guest_get_time, "{'a': 1, 'b': 2}", "3");
    CALL(qmp_marshal_guest_get_time, "{'a': -1}", "error: negative");
    CALL(qmp_marshal_guest_get_time, "{'b': 1}", "error: Parameter 'a' is missing");
    CALL(qmp_marshal_guest_sync, "{'arg': [1, {'x': null}]}", "[1, {\"x\": null}]");
    CALL(qmp_marshal_boxed_struct, "{'integer': 3}", "(none)");
    CALL(qmp_marshal_boxed_union,
         "{'integer': 1, 'string': 's', 'enum1': 'value2', 'intb': 4}",
         "(none)");
    CALL(qmp_marshal_boxed_empty, "{'x': 1}", "error: Parameter 'x' is unexpected");
    CALL(qmp_marshal_test_cmd_return_def_three, "{}", "{\"string0\": \"three\"}");
    CALL(qmp_marshal_test_features0, "{'fs1': {'foo': 5}}", "{\"foo\": 5}");
    CALL(qmp_marshal___org_qemu_x_command,
         "{'a': ['__org.qemu_x-value'], 'b': [], 'c': "
         "{'__org.qemu_x-member1': '__org.qemu_x-value', 'array': []}, "
         "'d': {'__org.qemu_x-member1': '__org.qemu_x-value'}}",
         "(none)");
    CHECK(calls == 6);
    /* several unexpected members: the one QEMU 7.2 names (live replies to
     * query-status, a command without arguments, with these arguments) */
    CALL(qmp_marshal_user_def_cmd, "{'a': 1, 'b': 2, 'c': 3}",
         "error: Parameter 'b' is unexpected");
    CALL(qmp_marshal_user_def_cmd,
         "{'zeta': 1, 'alpha': 2, 'mid': 3, 'x-y': 4, 'q': 5, "
         "'long-name-here': 6, 'k': 7, 'l': 8, 'm': 9, 'n': 10}",
         "error: Parameter 'x-y' is unexpected");
    CALL(qmp_marshal_user_def_cmd, "{'foo': 1, 'bar': 2}",
         "error: Parameter 'bar' is unexpected");

    qk_command_table *t = qk_command_table_new();
    CHECK(qmp_init_marshal(t) == 0);
    size_t want = 20;
#if defined(TEST_IF_UNION) && defined(TEST_IF_STRUCT)
    want++;
#endif
#if defined(TEST_IF_ALT) && defined(TEST_IF_STRUCT)
    want++;
#endif
#if defined(TEST_IF_CMD) && defined(TEST_IF_STRUCT)
    want++;
#endif
    CHECK(qk_command_table_size(t) == want);
    if (qk_command_table_size(t) != want)
        fprintf(stderr, "commands registered: %zu, want %zu\n",
                qk_command_table_size(t), want);
    qk_command_table_unref(t);
}

/* ---- events ---- */

static char last_event[1024];

static void emitter(const char *name, qk_json *ev, void *opaque)
{
    (void)opaque;
    (void)name;
    qk_json_object_remove(ev, "timestamp");
    char *s = qk_json_to_string(ev, 0, NULL);
    snprintf(last_event, sizeof(last_event), "%s", s ? s : "");
    qk_free(s);
    qk_json_unref(ev);
}

static void test_events(void)
{
    qk_event_emitter_set(emitter, NULL);
    qapi_event_send_event_a();
    CHECK(!strcmp(last_event, "{\"event\": \"EVENT_A\"}"));
    qapi_event_send_event_c(true, 1, NULL, "c");
    CHECK(!strcmp(last_event,
                  "{\"event\": \"EVENT_C\", \"data\": {\"a\": 1, \"c\": \"c\"}}"));
    UserDefZero z = {.integer = 9};
    qapi_event_send_event_e(&z);
    CHECK(!strcmp(last_event,
                  "{\"event\": \"EVENT_E\", \"data\": {\"integer\": 9}}"));
    Empty1 e1;
    memset(&e1, 0, sizeof(e1));
    qapi_event_send_event_g(&e1);
    CHECK(!strcmp(last_event, "{\"event\": \"EVENT_G\"}"));
    CHECK(!strcmp(QAPIEvent_str(QAPI_EVENT_EVENT_B), "EVENT_B"));

    /* compat policy: hide deprecated output */
    qk_compat_policy pol = {0};
    pol.deprecated_output = QK_COMPAT_OUTPUT_HIDE;
    qk_compat_policy_set(&pol);
    last_event[0] = 0;
    qapi_event_send_test_event_features1();
    CHECK(!last_event[0]);
    qapi_event_send_test_event_features2();
    CHECK(!strcmp(last_event, "{\"event\": \"TEST_EVENT_FEATURES2\"}"));
    qk_compat_policy_set(NULL);
    qapi_event_send_test_event_features1();
    CHECK(!strcmp(last_event, "{\"event\": \"TEST_EVENT_FEATURES1\"}"));
    qk_event_emitter_set(NULL, NULL);
}

static void test_policy(void)
{
    qk_compat_policy pol = {0};
    pol.deprecated_input = QK_COMPAT_INPUT_REJECT;
    qk_compat_policy_set(&pol);
    REJECT(FeatureStruct1, "{'foo': 1}",
           "Deprecated parameter foo disabled by policy");
    ROUNDTRIP(FeatureStruct2, "{'foo': 1}");
    REJECT(FeatureUnion1, "{'tag': 'drei'}",
           "Deprecated value drei disabled by policy");
    pol.deprecated_input = QK_COMPAT_INPUT_ACCEPT;
    pol.unstable_input = QK_COMPAT_INPUT_REJECT;
    qk_compat_policy_set(&pol);
    REJECT(FeatureStruct2, "{'foo': 1}",
           "Unstable parameter foo disabled by policy");
    pol.unstable_input = QK_COMPAT_INPUT_ACCEPT;
    pol.deprecated_output = QK_COMPAT_OUTPUT_HIDE;
    qk_compat_policy_set(&pol);
    FeatureStruct1 f = {.foo = 3};
    qk_json *j = visit_out_FeatureStruct1(&f);
    CHECK(j && qk_json_object_size(j) == 0);
    qk_json_unref(j);
    qk_compat_policy_set(NULL);
    j = visit_out_FeatureStruct1(&f);
    CHECK(j && qk_json_object_size(j) == 1);
    qk_json_unref(j);
}

static void test_introspect(void)
{
    qk_json *s = qmp_schema_new();
    CHECK(s && qk_json_is_array(s));
    size_t n = qk_json_array_size(s), cmds = 0, evs = 0;
    bool seen_int = false, seen_int8 = false, typed_first = true;
    for (size_t i = 0; i < n; i++) {
        qk_json *e = qk_json_array_get(s, i);
        const char *mt = qk_json_string(qk_json_object_get(e, "meta-type"));
        const char *name = qk_json_string(qk_json_object_get(e, "name"));
        CHECK(mt && name);
        if (!mt || !name)
            continue;
        if (!strcmp(mt, "command")) {
            cmds++;
            CHECK(typed_first);
        } else if (!strcmp(mt, "event")) {
            evs++;
            CHECK(typed_first);
        } else {
            typed_first = false;
        }
        seen_int |= !strcmp(name, "int");
        seen_int8 |= !strcmp(name, "int8");
        if (!strcmp(name, "test-flags-command"))
            CHECK(qk_json_get_bool(qk_json_object_get(e, "allow-oob")));
        if (!strcmp(name, "user-def-cmd"))
            CHECK(!qk_json_object_get(e, "allow-oob"));
    }
    CHECK(seen_int && !seen_int8);
    /* gen:false commands count too; conditional ones only when defined */
    size_t want_cmds = 23, want_evs = 13;
#if !(defined(TEST_IF_UNION) && defined(TEST_IF_STRUCT))
    want_cmds--;
#endif
#if !(defined(TEST_IF_ALT) && defined(TEST_IF_STRUCT))
    want_cmds--;
#endif
#if !(defined(TEST_IF_CMD) && defined(TEST_IF_STRUCT))
    want_cmds--;
#endif
#if !(defined(TEST_IF_EVT) && defined(TEST_IF_STRUCT))
    want_evs -= 2;
#endif
    if (cmds != want_cmds || evs != want_evs)
        fprintf(stderr, "introspection: %zu commands, %zu events\n", cmds, evs);
    CHECK(cmds == want_cmds && evs == want_evs);
    /* deprecated-output=hide drops entities and members with the feature */
    qk_compat_policy pol = {0};
    pol.deprecated_output = QK_COMPAT_OUTPUT_HIDE;
    qk_json *h = qk_introspect_apply_policy(s, &pol);
    CHECK(h && qk_json_array_size(h) < n);
    size_t hidden_members = 0;
    for (size_t i = 0; h && i < qk_json_array_size(h); i++) {
        qk_json *e = qk_json_array_get(h, i);
        const char *name = qk_json_string(qk_json_object_get(e, "name"));
        CHECK(strcmp(name, "test-command-features1") &&
              strcmp(name, "TEST_EVENT_FEATURES1"));
        qk_json *ms = qk_json_object_get(e, "members");
        for (size_t j = 0; j < qk_json_array_size(ms); j++) {
            qk_json *f = qk_json_object_get(qk_json_array_get(ms, j), "features");
            for (size_t k = 0; k < qk_json_array_size(f); k++)
                hidden_members += !strcmp(qk_json_string(qk_json_array_get(f, k)),
                                          "deprecated");
        }
    }
    CHECK(hidden_members == 0);
    qk_json_unref(h);
    h = qk_introspect_apply_policy(s, NULL);
    CHECK(h == s);
    qk_json_unref(h);
    /* the first command's arg-type is masked as "0" */
    qk_json *first = qk_json_array_get(s, 0);
    CHECK(!strcmp(qk_json_string(qk_json_object_get(first, "arg-type")), "0"));
    qk_json_unref(s);
}

/* ---- allocation failure: fail the Nth allocation until success ---- */

static long alloc_budget = -1; /* < 0: unlimited */
static long alloc_failed;

static void *fail_malloc(size_t n)
{
    if (alloc_budget == 0) {
        alloc_failed++;
        return NULL;
    }
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void *fail_realloc(void *p, size_t n)
{
    if (alloc_budget == 0) {
        alloc_failed++;
        return NULL;
    }
    if (alloc_budget > 0)
        alloc_budget--;
    return realloc(p, n);
}

static void test_oom(void)
{
    static const char *const text =
        "{'string0': 'a', 'dict1': {'string1': 'b', 'dict2': "
        "{'userdef': {'integer': 1, 'string': 'c', 'enum1': 'value2'}, "
        "'string': 'd'}, 'dict3': {'userdef': {'integer': 2, 'string': "
        "'e'}, 'string': 'f'}}}";
    qk_json *j = parse(text);
    qk_allocator a = {fail_malloc, fail_realloc, free};
    qk_set_allocator(&a);
    long n;
    for (n = 0; n < 10000; n++) {
        UserDefTwo *o = NULL;
        qk_error *e = NULL;
        alloc_budget = n;
        bool ok = visit_type_UserDefTwo(NULL, NULL, j, &o, &e);
        qk_json *back = ok ? visit_out_UserDefTwo(o) : NULL;
        alloc_budget = -1;
        if (ok && back) {
            CHECK(qk_json_equal(j, back));
            qk_json_unref(back);
            qapi_free_UserDefTwo(o);
            qk_error_free(e);
            break;
        }
        CHECK(ok || (!o && e));
        qk_json_unref(back);
        qapi_free_UserDefTwo(o);
        qk_error_free(e);
    }
    qk_set_allocator(NULL);
    CHECK(n > 10 && n < 10000);
    printf("allocation failure: %ld failing runs before success\n", n);
    qk_json_unref(j);
}

int main(void)
{
    test_roundtrip();
    test_reject();
    test_anonymous();
    test_unexpected_order();
    test_names();
    test_commands();
    test_events();
    test_policy();
    test_introspect();
    test_oom();
    printf("%d round trips, %d rejections, fast text decoder: %d decoded, "
           "%d left to the tree path; %d checks, %d failures\n",
           roundtrips, rejections, fast_ok, fast_fallback, checks, failures);
    return failures ? 1 : 0;
}
