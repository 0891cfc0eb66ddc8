-- PolicyCube warehouse: a star schema for a life insurer's analytical CRM (DuckDB).
--
-- Three layers, all in one DuckDB file:
--   1. code types and dimensions  (dim_*)   who, where, what, when
--   2. facts                      (fact_*)  what happened, at its natural grain
--   3. parameters and derived     (param_*, dim_calendar, mart_*) rebuilt by data/derive.py from
--      data/params.toml and the facts after every generate or load, so company rules
--      (unit costs, commission, VIP thresholds, work-month cut-off) are configuration.
--
-- Fixed vocabularies are ENUM types: they validate loads and make multi-column group-bys
-- faster than strings. Their bilingual labels live in dim_code (kind = the type name).

CREATE TYPE region_code AS ENUM ('north', 'northeast', 'east', 'central', 'south', 'southwest', 'northwest');
CREATE TYPE sex_code AS ENUM ('M', 'F');
CREATE TYPE channel_code AS ENUM ('agency', 'bancassurance', 'telesales', 'online', 'broker', 'group');
CREATE TYPE product_line_code AS ENUM ('life', 'health', 'accident', 'annuity', 'endowment');
CREATE TYPE term_type_code AS ENUM ('long', 'short');
CREATE TYPE payment_frequency_code AS ENUM ('single', 'annual', 'semiannual', 'quarterly', 'monthly');
CREATE TYPE policy_status_code AS ENUM ('in_force', 'lapsed', 'surrendered', 'matured', 'death_claim');
CREATE TYPE income_band_code AS ENUM ('lt50k', '50k_100k', '100k_200k', '200k_500k', 'gt500k');
CREATE TYPE acquisition_source_code AS ENUM ('cold_visit', 'referral', 'bank_counter', 'call_centre', 'online', 'group');
CREATE TYPE vip_tier_code AS ENUM ('regular', 'vip', 'gold_vip');
CREATE TYPE customer_type_code AS ENUM ('individual', 'corporate');
CREATE TYPE group_role_code AS ENUM ('parent', 'subsidiary');
CREATE TYPE agent_grade_code AS ENUM ('trainee', 'agent', 'senior', 'supervisor', 'manager');
CREATE TYPE claim_decision_code AS ENUM ('paid', 'declined', 'pending');
CREATE TYPE uw_decision_code AS ENUM ('accepted', 'rated', 'declined');
CREATE TYPE event_type_code AS ENUM ('servicing_change', 'inquiry', 'complaint', 'claim_handling', 'renewal_reminder', 'vip_activity');
CREATE TYPE service_channel_code AS ENUM ('call_centre', 'branch_counter', 'online', 'agent');
CREATE TYPE lead_source_code AS ENUM ('cold_visit', 'referral');
CREATE TYPE visit_outcome_code AS ENUM ('no_sale', 'sale');

-- Bilingual labels of every ENUM above: kind is the type name without '_code'.
CREATE TABLE dim_code (
    kind        VARCHAR NOT NULL,
    code        VARCHAR NOT NULL,
    name_zh     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    sort_order  INTEGER NOT NULL,
    PRIMARY KEY (kind, code)
);

-- Geography: region > province > city > branch (网点)
CREATE TABLE dim_region (
    region_code region_code PRIMARY KEY,
    name_zh     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    sort_order  INTEGER NOT NULL
);

CREATE TABLE dim_province (
    province_code VARCHAR PRIMARY KEY,          -- GB/T 2260 two-digit prefix, e.g. '11' Beijing
    name_zh       VARCHAR NOT NULL,
    name_en       VARCHAR NOT NULL,
    region_code   region_code NOT NULL
);

CREATE TABLE dim_city (
    city_code     VARCHAR PRIMARY KEY,
    name_zh       VARCHAR NOT NULL,
    name_en       VARCHAR NOT NULL,
    province_code VARCHAR NOT NULL,
    city_tier     TINYINT NOT NULL              -- 1 = first-tier city ... 4
);

CREATE TABLE dim_branch (
    branch_id   VARCHAR PRIMARY KEY,
    name_zh     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    city_code   VARCHAR NOT NULL,
    opened_date DATE NOT NULL
);

-- Occupation: industry class > occupation, occupational risk class 1 (office) .. 6 (hazardous)
CREATE TABLE dim_industry (
    industry_code VARCHAR PRIMARY KEY,
    name_zh       VARCHAR NOT NULL,
    name_en       VARCHAR NOT NULL
);

CREATE TABLE dim_occupation (
    occupation_code VARCHAR PRIMARY KEY,
    name_zh         VARCHAR NOT NULL,
    name_en         VARCHAR NOT NULL,
    industry_code   VARCHAR NOT NULL,
    risk_class      TINYINT NOT NULL CHECK (risk_class BETWEEN 1 AND 6)
);

-- Product: product line > product
CREATE TABLE dim_product_line (
    line_code  product_line_code PRIMARY KEY,
    name_zh    VARCHAR NOT NULL,
    name_en    VARCHAR NOT NULL,
    sort_order INTEGER NOT NULL
);

CREATE TABLE dim_product (
    product_code    VARCHAR PRIMARY KEY,
    name_zh         VARCHAR NOT NULL,
    name_en         VARCHAR NOT NULL,
    line_code       product_line_code NOT NULL,
    term_type       term_type_code NOT NULL,
    guaranteed_rate DOUBLE NOT NULL,            -- 预定利率, e.g. 0.035
    coverage_years  INTEGER,                    -- NULL = whole life
    launch_date     DATE NOT NULL
);

CREATE TABLE dim_channel (
    channel_code channel_code PRIMARY KEY,
    name_zh      VARCHAR NOT NULL,
    name_en      VARCHAR NOT NULL,
    sort_order   INTEGER NOT NULL
);

-- Agents: branch > team > agent
CREATE TABLE dim_team (
    team_id   VARCHAR PRIMARY KEY,
    name_zh   VARCHAR NOT NULL,
    name_en   VARCHAR NOT NULL,
    branch_id VARCHAR NOT NULL
);

CREATE TABLE dim_agent (
    agent_id   VARCHAR PRIMARY KEY,
    name       VARCHAR NOT NULL,
    team_id    VARCHAR NOT NULL,
    branch_id  VARCHAR NOT NULL,
    grade      agent_grade_code NOT NULL,
    hire_date  DATE NOT NULL,
    leave_date DATE                              -- NULL = still active
);

-- Customers. Phone and ID number are synthetic and stored whole; the cube layer masks them
-- for display unless the caller's role may see PII.
CREATE TABLE dim_customer (
    customer_id        VARCHAR PRIMARY KEY,
    customer_type      customer_type_code NOT NULL,
    name               VARCHAR NOT NULL,
    phone              VARCHAR,
    id_number          VARCHAR,                  -- 18-digit resident ID, or credit code for companies
    sex                sex_code,                 -- NULL for corporate customers
    birth_date         DATE,                     -- NULL for corporate customers
    occupation_code    VARCHAR,
    income_band        income_band_code,
    city_code          VARCHAR NOT NULL,
    branch_id          VARCHAR NOT NULL,
    first_policy_date  DATE,                     -- tenure starts here
    acquisition_source acquisition_source_code NOT NULL,
    corporate_group_id VARCHAR,                  -- customers of one corporate group share it
    group_role         group_role_code,
    parent_customer_id VARCHAR,                  -- the group's parent, for subsidiaries
    vip_tier           vip_tier_code              -- computed by data/derive.py from params.toml rules
);

-- Facts
CREATE TABLE fact_policy (
    policy_id          VARCHAR PRIMARY KEY,
    customer_id        VARCHAR NOT NULL,
    agent_id           VARCHAR,                  -- NULL where no agent sold it (online, telesales ...)
    product_code       VARCHAR NOT NULL,
    channel_code       channel_code NOT NULL,
    branch_id          VARCHAR NOT NULL,
    application_date   DATE NOT NULL,
    issue_date         DATE NOT NULL,
    status             policy_status_code NOT NULL,
    status_date        DATE NOT NULL,
    sum_assured        DOUBLE NOT NULL,
    annual_premium     DOUBLE NOT NULL,          -- annualised regular premium (0 for single premium)
    payment_frequency  payment_frequency_code NOT NULL,
    premium_term_years INTEGER NOT NULL,         -- 1 for single premium
    single_premium     DOUBLE NOT NULL           -- 0 for regular premium
);

-- One row per premium instalment due. policy_year 1 = first-year premium, 2+ = renewal.
CREATE TABLE fact_premium (
    payment_id  BIGINT PRIMARY KEY,
    policy_id   VARCHAR NOT NULL,
    due_date    DATE NOT NULL,
    paid_date   DATE,                            -- NULL = unpaid (missed)
    amount      DOUBLE NOT NULL,
    policy_year SMALLINT NOT NULL
);

CREATE TABLE fact_claim (
    claim_id       VARCHAR PRIMARY KEY,
    policy_id      VARCHAR NOT NULL,
    report_date    DATE NOT NULL,
    decision_date  DATE,                         -- NULL while pending
    amount_claimed DOUBLE NOT NULL,
    amount_paid    DOUBLE NOT NULL,              -- 0 unless decision = 'paid'
    decision       claim_decision_code NOT NULL
);

CREATE TABLE fact_underwriting (
    application_id   VARCHAR PRIMARY KEY,
    customer_id      VARCHAR NOT NULL,
    product_code     VARCHAR NOT NULL,
    channel_code     channel_code NOT NULL,
    agent_id         VARCHAR,
    application_date DATE NOT NULL,
    decision_date    DATE NOT NULL,
    decision         uw_decision_code NOT NULL,
    policy_id        VARCHAR                     -- the policy issued, if accepted or rated
);

CREATE TABLE fact_service_event (
    event_id        BIGINT PRIMARY KEY,
    customer_id     VARCHAR NOT NULL,
    policy_id       VARCHAR,
    event_date      DATE NOT NULL,
    event_type      event_type_code NOT NULL,
    service_channel service_channel_code NOT NULL,
    minutes         DOUBLE NOT NULL
);

CREATE TABLE fact_visit (
    visit_id    BIGINT PRIMARY KEY,
    agent_id    VARCHAR NOT NULL,
    prospect_id VARCHAR NOT NULL,                -- the person visited, customer or not yet
    customer_id VARCHAR,                         -- set when the prospect is (or became) a customer
    visit_date  DATE NOT NULL,
    minutes     DOUBLE NOT NULL,
    lead_source lead_source_code NOT NULL,
    outcome     visit_outcome_code NOT NULL,
    policy_id   VARCHAR                          -- the policy sold, when outcome = 'sale'
);
