//! `eliminate_common_subexpressions`: text in, text out, and the interpreter on both graphs.

mod common;

use common::{assert_same, assert_text, f32_stack, run, u8_stack};
use rumba_ir::DType;
use rumba_ir::dsl::{Builder, Stat, Step};
use rumba_ir::op::Op;
use rumba_opt::eliminate_common_subexpressions::eliminate_common_subexpressions;

#[test]
fn two_identical_range_references_become_one_reduce() {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [Some(8), Some(2), Some(3), Some(1)]);
    let out = x.pipeline(
        Some(Step::range([0, 9], Stat::Mean)),
        Some(Step::range([0, 9], Stat::Mean)),
    );
    let graph = b.build([("out", &out)]).unwrap();
    let reduces = |g: &rumba_ir::Graph| g.nodes.iter().filter(|n| matches!(n.op, Op::Reduce { .. })).count();
    assert_eq!(reduces(&graph), 2);
    let merged = run(eliminate_common_subexpressions, &graph);
    assert_eq!(reduces(&merged), 1);
    assert_text(
        &merged,
        r#"
%0 = input("x") : u8 (8, 2, 3, 1)                                    # x [input]
%1 = cast(%0 to f32) : f32 (8, 2, 3, 1)                              # pipeline2 [pipeline]
%2 = slice(%0, axis=0, 0:10:1) : u8 (8, 2, 3, 1)                     # pipeline2 [pipeline]
%3 = reduce(%2, mean, axes=[0], keepdims) : f32 (1, 2, 3, 1)         # pipeline2 [pipeline]
%4 = const(1) : f64 () weak                                          # pipeline2 [pipeline]
%5 = cast(%4 to f32) : f32 ()                                        # pipeline2 [pipeline]
%6 = mul(%5, %3) : f32 (1, 2, 3, 1)                                  # pipeline2 [pipeline]
%7 = sub(%1, %6) : f32 (8, 2, 3, 1)                                  # pipeline2 [pipeline]
%8 = sub(%4, %4) : f64 () weak                                       # pipeline2 [pipeline]
%9 = cast(%8 to f32) : f32 ()                                        # pipeline2 [pipeline]
%10 = add(%6, %9) : f32 (1, 2, 3, 1)                                 # pipeline2 [pipeline]
%11 = div(%7, %10) : f32 (8, 2, 3, 1)                                # pipeline2 [pipeline]
%12 = const(0) : f64 () weak                                         # pipeline2 [pipeline]
%13 = cast(%12 to f32) : f32 ()                                      # pipeline2 [pipeline]
%14 = eq(%10, %13) : bool (1, 2, 3, 1)                               # pipeline2 [pipeline]
%15 = select(%14, %13, %11) : f32 (8, 2, 3, 1)                       # pipeline2 [pipeline]
%16 = nan_to_num(%15, nan=0, posinf=0, neginf=0) : f32 (8, 2, 3, 1)  # pipeline2 [pipeline]
output "out" = %16 : f32 (8, 2, 3, 1)
"#,
    );
    let x = u8_stack(&[8, 2, 3, 1]);
    assert_same(&graph, &merged, &[("x", x.view())]);
}

#[test]
fn consts_merge_by_bits_so_zero_and_negative_zero_stay_apart() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(13)]);
    let plus_zero = &x + 0.0;
    let plus_zero_again = &x + 0.0;
    let plus_negative_zero = &x + -0.0;
    let outputs = [
        ("plus_zero", &plus_zero),
        ("plus_zero_again", &plus_zero_again),
        ("plus_negative_zero", &plus_negative_zero),
    ];
    let graph = b.build(outputs).unwrap();
    let merged = run(eliminate_common_subexpressions, &graph);
    assert_text(
        &merged,
        r#"
%0 = input("x") : f32 (13,)    # x [input]
%1 = const(0) : f64 () weak    # add2 [add]
%2 = cast(%1 to f32) : f32 ()  # add2 [add]
%3 = add(%0, %2) : f32 (13,)   # add2 [add]
%4 = const(-0) : f64 () weak   # add4 [add]
%5 = cast(%4 to f32) : f32 ()  # add4 [add]
%6 = add(%0, %5) : f32 (13,)   # add4 [add]
output "plus_zero" = %3 : f32 (13,)
output "plus_zero_again" = %3 : f32 (13,)
output "plus_negative_zero" = %6 : f32 (13,)
"#,
    );
    let x = f32_stack(&[13]);
    assert_same(&graph, &merged, &[("x", x.view())]);
}
