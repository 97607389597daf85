//! `simplify_algebra`: text in, text out, and the interpreter on both graphs.

mod common;

use common::{assert_same, assert_same_results, assert_text, f32_stack, run, u8_stack};
use rumba_ir::dsl::Builder;
use rumba_ir::{DType, Op};
use rumba_opt::fold_constants::fold_constants;
use rumba_opt::simplify_algebra::simplify_algebra;

#[test]
fn removes_multiplications_by_one_but_not_by_zero_nor_additions_of_zero() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(2), Some(4)]);
    let amount = b.param("amount", Some(1.0));
    let kept_x = &(1.0 * &(&x * 1.0)) / 1.0;
    let times_zero = &x * 0.0;
    let plus_zero = &x + 0.0;
    let scaled_param = &amount * 1.0;
    let outputs = [
        ("kept_x", &kept_x),
        ("times_zero", &times_zero),
        ("plus_zero", &plus_zero),
        ("scaled_param", &scaled_param),
    ];
    let graph = run(fold_constants, &b.build(outputs).unwrap());
    assert_text(
        &graph,
        r#"
%0 = input("x") : f32 (2, 4)                   # x [input]
%1 = param("amount", default=1) : f64 () weak  # amount [param]
%2 = const(1) : f64 () weak                    # mul3 [mul]
%3 = const(1) : f32 ()                         # mul3 [mul]
%4 = mul(%0, %3) : f32 (2, 4)                  # mul3 [mul]
%5 = const(1) : f64 () weak                    # mul4 [mul]
%6 = const(1) : f32 ()                         # mul4 [mul]
%7 = mul(%6, %4) : f32 (2, 4)                  # mul4 [mul]
%8 = const(1) : f64 () weak                    # div5 [div]
%9 = const(1) : f32 ()                         # div5 [div]
%10 = div(%7, %9) : f32 (2, 4)                 # div5 [div]
%11 = const(0) : f64 () weak                   # mul6 [mul]
%12 = const(0) : f32 ()                        # mul6 [mul]
%13 = mul(%0, %12) : f32 (2, 4)                # mul6 [mul]
%14 = const(0) : f64 () weak                   # add7 [add]
%15 = const(0) : f32 ()                        # add7 [add]
%16 = add(%0, %15) : f32 (2, 4)                # add7 [add]
%17 = const(1) : f64 () weak                   # mul8 [mul]
%18 = mul(%1, %17) : f64 () weak               # mul8 [mul]
output "kept_x" = %10 : f32 (2, 4)
output "times_zero" = %13 : f32 (2, 4)
output "plus_zero" = %16 : f32 (2, 4)
output "scaled_param" = %18 : f64 () weak
"#,
    );
    let simplified = run(simplify_algebra, &graph);
    assert_text(
        &simplified,
        r#"
%0 = input("x") : f32 (2, 4)                   # x [input]
%1 = param("amount", default=1) : f64 () weak  # amount [param]
%2 = const(1) : f64 () weak                    # mul3 [mul]
%3 = const(1) : f32 ()                         # mul3 [mul]
%4 = const(1) : f64 () weak                    # mul4 [mul]
%5 = const(1) : f32 ()                         # mul4 [mul]
%6 = const(1) : f64 () weak                    # div5 [div]
%7 = const(1) : f32 ()                         # div5 [div]
%8 = const(0) : f64 () weak                    # mul6 [mul]
%9 = const(0) : f32 ()                         # mul6 [mul]
%10 = mul(%0, %9) : f32 (2, 4)                 # mul6 [mul]
%11 = const(0) : f64 () weak                   # add7 [add]
%12 = const(0) : f32 ()                        # add7 [add]
%13 = add(%0, %12) : f32 (2, 4)                # add7 [add]
%14 = const(1) : f64 () weak                   # mul8 [mul]
%15 = mul(%1, %14) : f64 () weak               # mul8 [mul]
output "kept_x" = %0 : f32 (2, 4)
output "times_zero" = %10 : f32 (2, 4)
output "plus_zero" = %13 : f32 (2, 4)
output "scaled_param" = %15 : f64 () weak
"#,
    );
    let x = f32_stack(&[2, 4]);
    let params: &[&[(&str, f64)]] = &[&[], &[("amount", f64::NAN)], &[("amount", -0.0)]];
    assert_eq!(assert_same_results(&graph, &simplified, &[("x", x.view())], params), 3);
}

#[test]
fn keeps_a_multiplication_by_ones_that_broadcasts_x() {
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(4), Some(1)]);
    let z = b.input("z", DType::F32, [Some(4), Some(5)]);
    let ones = b.constant(1.0).broadcast_to(&[4, 5]);
    let stretched = &x * &ones;
    let same_shape = &z * &ones;
    let expanded_one = &x * &b.constant(1.0).expand(0);
    let outputs = [
        ("stretched", &stretched),
        ("same_shape", &same_shape),
        ("expanded_one", &expanded_one),
    ];
    let graph = b.build(outputs).unwrap();
    let simplified = run(simplify_algebra, &graph);
    assert_text(
        &simplified,
        r#"
%0 = input("x") : f32 (4, 1)                           # x [input]
%1 = input("z") : f32 (4, 5)                           # z [input]
%2 = const(1) : f64 () weak                            # const3 [const]
%3 = broadcast_to(%2, shape=[4, 5]) : f64 (4, 5) weak  # broadcast_to4 [broadcast_to]
%4 = cast(%3 to f32) : f32 (4, 5)                      # mul5 [mul]
%5 = mul(%0, %4) : f32 (4, 5)                          # mul5 [mul]
%6 = cast(%3 to f32) : f32 (4, 5)                      # mul6 [mul]
%7 = const(1) : f64 () weak                            # const7 [const]
%8 = expand(%7, axis=0) : f64 (1,) weak                # expand8 [expand]
%9 = cast(%8 to f32) : f32 (1,)                        # mul9 [mul]
output "stretched" = %5 : f32 (4, 5)
output "same_shape" = %1 : f32 (4, 5)
output "expanded_one" = %0 : f32 (4, 1)
"#,
    );
    let (x, z) = (f32_stack(&[4, 1]), f32_stack(&[4, 5]));
    assert_same(&graph, &simplified, &[("x", x.view()), ("z", z.view())]);
}

#[test]
fn merges_casts_only_when_both_widen_exactly() {
    let b = Builder::new();
    let p = b.input("p", DType::U8, [Some(6)]);
    let i = b.input("i", DType::I32, [Some(6)]);
    let two_steps = p.cast(DType::U16).cast(DType::F32);
    let three_steps = p.cast(DType::U16).cast(DType::I32).cast(DType::F64);
    let through_f32 = i.cast(DType::F32).cast(DType::F64);
    let narrowing = p.cast(DType::F64).cast(DType::F32);
    let outputs = [
        ("two_steps", &two_steps),
        ("three_steps", &three_steps),
        ("through_f32", &through_f32),
        ("narrowing", &narrowing),
    ];
    let graph = b.build(outputs).unwrap();
    let simplified = run(simplify_algebra, &graph);
    assert_text(
        &simplified,
        r#"
%0 = input("p") : u8 (6,)         # p [input]
%1 = input("i") : i32 (6,)        # i [input]
%2 = cast(%0 to u16) : u16 (6,)   # cast3 [cast]
%3 = cast(%0 to f32) : f32 (6,)   # cast4 [cast]
%4 = cast(%0 to u16) : u16 (6,)   # cast5 [cast]
%5 = cast(%0 to i32) : i32 (6,)   # cast6 [cast]
%6 = cast(%0 to f64) : f64 (6,)   # cast7 [cast]
%7 = cast(%1 to f32) : f32 (6,)   # cast8 [cast]
%8 = cast(%7 to f64) : f64 (6,)   # cast9 [cast]
%9 = cast(%0 to f64) : f64 (6,)   # cast10 [cast]
%10 = cast(%9 to f32) : f32 (6,)  # cast11 [cast]
output "two_steps" = %3 : f32 (6,)
output "three_steps" = %6 : f64 (6,)
output "through_f32" = %8 : f64 (6,)
output "narrowing" = %10 : f32 (6,)
"#,
    );
    let p = u8_stack(&[6]);
    let i = rumba_ir::Array::I32(ndarray::arr1(&[16_777_217, -16_777_217, 0, 1, i32::MAX, i32::MIN]).into_dyn());
    assert_same(&graph, &simplified, &[("p", p.view()), ("i", i.view())]);
}

#[test]
fn removes_a_cast_to_the_same_dtype() {
    let b = Builder::new();
    let p = b.input("p", DType::U8, [Some(6)]);
    let widened = p.cast(DType::U16);
    let mut graph = b.build([("y", &widened)]).unwrap();
    // Validation never writes such a cast; make one by hand.
    graph.nodes[1].op = Op::Cast {
        x: rumba_ir::NodeId(0),
        to: DType::U8,
    };
    graph.nodes[1].dtype = DType::U8;
    let simplified = simplify_algebra(&graph).unwrap();
    assert_text(
        &simplified,
        r#"
%0 = input("p") : u8 (6,)  # p [input]
output "y" = %0 : u8 (6,)
"#,
    );
    let p = u8_stack(&[6]);
    assert_same(&graph, &simplified, &[("p", p.view())]);
}

#[test]
fn the_divide_steps_zero_divisor_select_goes_where_nan_to_num_covers_it() {
    use rumba_ir::Array;
    use rumba_ir::dsl::Step;
    let b = Builder::new();
    let x = b.input("x", DType::F32, [Some(3), Some(2), Some(4), Some(1)]);
    let r = b.input("r", DType::F32, [Some(1), Some(2), Some(4), Some(1)]);
    let amount = b.param("amount", Some(1.0));
    let out = x.pipeline(None, Some(Step::file(&r).amount(&amount)));
    let graph = run(fold_constants, &b.build([("out", &out)]).unwrap());
    let simplified = run(simplify_algebra, &graph);
    let count = |g: &rumba_ir::Graph, name: &str| g.nodes.iter().filter(|n| n.op.name() == name).count();
    let nan_to_num = simplified
        .nodes
        .iter()
        .find(|n| matches!(n.op, Op::NanToNum { .. }))
        .unwrap();
    let Op::NanToNum { x: inner, .. } = nan_to_num.op else {
        unreachable!()
    };
    assert_eq!(simplified.node(inner).op.name(), "div", "{simplified}");
    assert_eq!(count(&graph, "select"), 1);
    // Divisors and dividends of every kind: ±0, ±Inf, NaN, tiny and huge values.
    let special = [
        0.0f32,
        -0.0,
        1.0,
        -2.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e-40,
        3e38,
        -7.0,
    ];
    let stack = |n: usize, k: usize| {
        ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[n, 2, 4, 1]), |i| {
            special[(i[0] * 8 + i[1] * 4 + i[2] + k) % special.len()]
        })
    };
    let (xs, rs) = (Array::F32(stack(3, 0)), Array::F32(stack(1, 3)));
    let inputs = [("x", xs.view()), ("r", rs.view())];
    let ran = assert_same_results(
        &graph,
        &simplified,
        &inputs,
        &[&[], &[("amount", 0.0)], &[("amount", -1.0)], &[("amount", 0.5)]],
    );
    assert_eq!(ran, 4);
}
