//! `fold_constants`: text in, text out, and the interpreter on both graphs.

mod common;

use common::{assert_same, assert_same_results, assert_text, f32_stack, run, u8_stack};
use rumba_ir::DType;
use rumba_ir::dsl::{Builder, Stat, Step};
use rumba_opt::fold_constants::fold_constants;

#[test]
fn folds_casts_of_consts_and_leaves_one_minus_amount_alone() {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [Some(4), Some(2), Some(3), Some(1)]);
    let amount = b.param("amount", Some(0.5));
    let out = x.pipeline(None, Some(Step::range([0, 1], Stat::Mean).amount(&amount)));
    let graph = b.build([("out", &out)]).unwrap();
    let folded = run(fold_constants, &graph);
    assert_text(
        &folded,
        r#"
%0 = input("x") : u8 (4, 2, 3, 1)                                    # x [input]
%1 = param("amount", default=0.5) : f64 () weak                      # amount [param]
%2 = cast(%0 to f32) : f32 (4, 2, 3, 1)                              # pipeline3 [pipeline]
%3 = slice(%0, axis=0, 0:2:1) : u8 (2, 2, 3, 1)                      # pipeline3 [pipeline]
%4 = reduce(%3, mean, axes=[0], keepdims) : f32 (1, 2, 3, 1)         # pipeline3 [pipeline]
%5 = cast(%1 to f32) : f32 ()                                        # pipeline3 [pipeline]
%6 = mul(%5, %4) : f32 (1, 2, 3, 1)                                  # pipeline3 [pipeline]
%7 = const(1) : f64 () weak                                          # pipeline3 [pipeline]
%8 = sub(%7, %1) : f64 () weak                                       # pipeline3 [pipeline]
%9 = cast(%8 to f32) : f32 ()                                        # pipeline3 [pipeline]
%10 = add(%6, %9) : f32 (1, 2, 3, 1)                                 # pipeline3 [pipeline]
%11 = div(%2, %10) : f32 (4, 2, 3, 1)                                # pipeline3 [pipeline]
%12 = const(0) : f64 () weak                                         # pipeline3 [pipeline]
%13 = const(0) : f32 ()                                              # pipeline3 [pipeline]
%14 = eq(%10, %13) : bool (1, 2, 3, 1)                               # pipeline3 [pipeline]
%15 = const(0) : f32 ()                                              # pipeline3 [pipeline]
%16 = select(%14, %15, %11) : f32 (4, 2, 3, 1)                       # pipeline3 [pipeline]
%17 = nan_to_num(%16, nan=0, posinf=0, neginf=0) : f32 (4, 2, 3, 1)  # pipeline3 [pipeline]
output "out" = %17 : f32 (4, 2, 3, 1)
"#,
    );
    let x = u8_stack(&[4, 2, 3, 1]);
    let ok = assert_same_results(
        &graph,
        &folded,
        &[("x", x.view())],
        &[&[], &[("amount", 0.0)], &[("amount", 1.0)], &[("amount", -0.0)]],
    );
    assert_eq!(ok, 4);
}

#[test]
fn computes_in_the_node_dtype_exactly_as_the_interpreter() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(8)]);
    let f32c = |v: f64| b.constant(v).cast(DType::F32);
    // In f64 this sum is 16777217; in f32 it rounds to 16777216.
    let big = &f32c(16_777_216.0) + &f32c(1.0);
    let e = f32c(1.0).exp();
    let y = &(&x * &f32c(0.1)) + &(&big * &e);
    let saturated = b.constant(300.7).cast(DType::U8);
    let nan_is_true = b.constant(f64::NAN).cast(DType::Bool);
    let picked = b.constant(2.0).gt(1.0).select(3.0, 4.0);
    let cleaned = b.constant(f64::INFINITY).nan_to_num(Some(1.0), Some(7.0), Some(-7.0));
    let wrapped = -&b.constant(-2_147_483_648.0).cast(DType::I32);
    let min_zero = f32c(-0.0).min(&f32c(0.0));
    let outputs = [
        ("y", &y),
        ("saturated", &saturated),
        ("nan_is_true", &nan_is_true),
        ("picked", &picked),
        ("cleaned", &cleaned),
        ("wrapped", &wrapped),
        ("min_zero", &min_zero),
    ];
    let graph = b.build(outputs).unwrap();
    let folded = run(fold_constants, &graph);
    assert_text(
        &folded,
        r#"
%0 = input("x") : f32 (8,)                            # x [input]
%1 = const(16777216) : f64 () weak                    # const2 [const]
%2 = const(16777216) : f32 ()                         # cast3 [cast]
%3 = const(1) : f64 () weak                           # const4 [const]
%4 = const(1) : f32 ()                                # cast5 [cast]
%5 = const(16777216) : f32 ()                         # add6 [add]
%6 = const(1) : f64 () weak                           # const7 [const]
%7 = const(1) : f32 ()                                # cast8 [cast]
%8 = const(2.7182817459106445) : f32 ()               # exp9 [exp]
%9 = const(0.1) : f64 () weak                         # const10 [const]
%10 = const(0.10000000149011612) : f32 ()             # cast11 [cast]
%11 = mul(%0, %10) : f32 (8,)                         # mul12 [mul]
%12 = const(45605200) : f32 ()                        # mul13 [mul]
%13 = add(%11, %12) : f32 (8,)                        # add14 [add]
%14 = const(300.7) : f64 () weak                      # const15 [const]
%15 = const(255) : u8 ()                              # cast16 [cast]
%16 = const(NaN) : f64 () weak                        # const17 [const]
%17 = const(1) : bool ()                              # cast18 [cast]
%18 = const(2) : f64 () weak                          # const19 [const]
%19 = const(1) : f64 () weak                          # gt20 [gt]
%20 = const(1) : bool () weak                         # gt20 [gt]
%21 = const(3) : f64 () weak                          # select21 [select]
%22 = const(4) : f64 () weak                          # select21 [select]
%23 = const(3) : f64 () weak                          # select21 [select]
%24 = const(inf) : f64 () weak                        # const22 [const]
%25 = const(7) : f64 () weak                          # nan_to_num23 [nan_to_num]
%26 = const(-2147483648) : f64 () weak                # const24 [const]
%27 = const(-2147483648) : i32 ()                     # cast25 [cast]
%28 = const(-2147483648) : i32 ()                     # neg26 [neg]
%29 = const(-0) : f64 () weak                         # const27 [const]
%30 = const(-0) : f32 ()                              # cast28 [cast]
%31 = const(0) : f64 () weak                          # const29 [const]
%32 = const(0) : f32 ()                               # cast30 [cast]
%33 = const(-0) : f32 ()                              # min31 [min]
output "y" = %13 : f32 (8,)
output "saturated" = %15 : u8 ()
output "nan_is_true" = %17 : bool ()
output "picked" = %23 : f64 () weak
output "cleaned" = %25 : f64 () weak
output "wrapped" = %28 : i32 ()
output "min_zero" = %33 : f32 ()
"#,
    );
    let x = f32_stack(&[8]);
    assert_same(&graph, &folded, &[("x", x.view())]);
}

#[test]
fn never_folds_through_a_param() {
    let b = Builder::new();
    let amount = b.param("amount", Some(2.0));
    let six = &b.constant(2.0) * 3.0;
    let y = &six - &amount;
    let graph = b.build([("y", &y)]).unwrap();
    let folded = run(fold_constants, &graph);
    assert_text(
        &folded,
        r#"
%0 = param("amount", default=2) : f64 () weak  # amount [param]
%1 = const(2) : f64 () weak                    # const2 [const]
%2 = const(3) : f64 () weak                    # mul3 [mul]
%3 = const(6) : f64 () weak                    # mul3 [mul]
%4 = sub(%3, %0) : f64 () weak                 # sub4 [sub]
output "y" = %4 : f64 () weak
"#,
    );
    let ok = assert_same_results(
        &graph,
        &folded,
        &[],
        &[&[], &[("amount", f64::NAN)], &[("amount", -0.0)]],
    );
    assert_eq!(ok, 3);
}
