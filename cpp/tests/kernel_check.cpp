// Exercises every kernel, including its error and fallback paths, in a plain executable:
// built with ALSKIT_SANITIZE=ON it is the leak check of the core (LeakSanitizer cannot be
// pointed at the Python extension, whose interpreter "leaks" by design).
#include "alskit/batched_cholesky.hpp"
#include "alskit/csr.hpp"
#include "alskit/fold_in.hpp"
#include "alskit/gram.hpp"
#include "alskit/normal_product.hpp"
#include "alskit/rank_update.hpp"
#include "alskit/scoring.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

using namespace alskit;

namespace {

int failures = 0;
int checks = 0;

void check(bool ok, const char* what) {
    ++checks;
    if (!ok) {
        ++failures;
        std::fprintf(stderr, "FAILED: %s\n", what);
    }
}

template <class F>
void expect_throw(F&& f, const char* what) {
    bool thrown = false;
    try {
        f();
    } catch (const std::exception&) {
        thrown = true;
    }
    check(thrown, what);
}

struct Problem {
    std::vector<std::int64_t> indptr{0};
    std::vector<std::int32_t> indices;
    std::vector<float> values;
    Index rows = 0, cols = 0;
    CsrView<float, std::int64_t> view() const {
        return {indptr.data(), indices.data(), values.data(),
                rows,          cols,           static_cast<Index>(indices.size())};
    }
};

Problem random_problem(Index rows, Index cols, std::mt19937& rng) {
    Problem p;
    p.rows = rows;
    p.cols = cols;
    std::uniform_int_distribution<int> length(0, static_cast<int>(cols) / 2);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (Index r = 0; r < rows; ++r) {
        const int n = r % 7 == 0 ? 0 : length(rng);  // some empty rows
        for (int j = 0; j < n; ++j) {
            p.indices.push_back(static_cast<std::int32_t>((r * 7 + j * 3) % cols));
        }
        std::sort(p.indices.end() - n, p.indices.end());
        p.indices.erase(std::unique(p.indices.end() - n, p.indices.end()), p.indices.end());
        p.indptr.push_back(static_cast<std::int64_t>(p.indices.size()));
    }
    for (std::size_t j = 0; j < p.indices.size(); ++j) p.values.push_back(std::abs(normal(rng)));
    return p;
}

/// The interleaved Cholesky against Eigen's, for every batch fill; and lane independence:
/// a system's solution is bit-identical whatever shares its batch, singular or NaN included.
template <class Scalar>
void check_interleaved_cholesky(Index k, std::mt19937& rng) {
    using Batch = InterleavedCholesky<Scalar>;
    constexpr int lanes = Batch::lanes;
    const Scalar tolerance = std::is_same<Scalar, float>::value ? Scalar(1e-4) : Scalar(1e-10);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<SquareMatrix<Scalar>> systems;
    std::vector<Vector<Scalar>> rhs;
    for (int l = 0; l < lanes; ++l) {
        Matrix<Scalar> x(2 * k, k);
        for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<Scalar>(normal(rng));
        systems.emplace_back(x.transpose() * x + SquareMatrix<Scalar>::Identity(k, k));
        rhs.emplace_back(Vector<Scalar>::NullaryExpr(k, [&] { return Scalar(normal(rng)); }));
    }
    const Scalar* a[lanes];
    const Scalar* b[lanes];
    Batch batch(k);
    Vector<Scalar> got(k), alone(k);
    for (int count = 1; count <= lanes; ++count) {
        for (int l = 0; l < count; ++l) {
            a[l] = systems[static_cast<std::size_t>(l)].data();
            b[l] = rhs[static_cast<std::size_t>(l)].data();
        }
        batch.solve(a, b, count);
        for (int l = 0; l < count; ++l) {
            const auto& m = systems[static_cast<std::size_t>(l)];
            const Vector<Scalar> want = m.llt().solve(rhs[static_cast<std::size_t>(l)]);
            batch.solution(l, got.data());
            check(batch.usable(l) && (got - want).norm() <= tolerance * want.norm(),
                  "interleaved Cholesky matches Eigen's LLT");
        }
    }
    // Lane 0 alone, then with a singular (zero) and a NaN system beside it.
    a[0] = systems[0].data();
    b[0] = rhs[0].data();
    batch.solve(a, b, 1);
    batch.solution(0, alone.data());
    const SquareMatrix<Scalar> zero = SquareMatrix<Scalar>::Zero(k, k);
    SquareMatrix<Scalar> nan = systems[1];
    nan(k - 1, 0) = std::numeric_limits<Scalar>::quiet_NaN();
    static_assert(lanes >= 3, "one lane each for the regular, singular and NaN systems");
    a[1] = zero.data();
    a[2] = nan.data();
    b[1] = rhs[1].data();
    b[2] = rhs[2].data();
    batch.solve(a, b, 3);
    batch.solution(0, got.data());
    check(batch.usable(0) && got == alone, "a lane's result does not depend on its batch");
    check(!batch.usable(1), "a singular lane is reported");
    check(!batch.usable(2), "a NaN lane is reported");
}

/// The register-tiled rank update against a double-precision XᵀX: the lower triangle gets
/// ± the product, the upper is untouched, for widths below, at and past a strip, strides wider
/// than k and X held in a buffer of exactly m rows (the sanitizer build sees any overread).
template <class Scalar>
void check_rank_update(std::mt19937& rng) {
    const double tolerance = std::is_same<Scalar, float>::value ? 1e-5 : 1e-13;
    std::normal_distribution<double> normal(0.0, 1.0);
    for (Index k : {1, 5, 8, 15, 16, 17, 31, 50, 64, 100, 128, 192, 200}) {
        for (Index m : {1, 2, 7, 64, 300}) {
            for (Index extra : {0, 3}) {
                const Index stride = k + extra;
                std::vector<Scalar> x(static_cast<std::size_t>(m * stride));
                for (auto& v : x) v = static_cast<Scalar>(normal(rng));
                SquareMatrix<Scalar> a(k, k);
                for (Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<Scalar>(normal(rng));
                const SquareMatrix<Scalar> before = a;
                Eigen::MatrixXd xd(m, k);
                for (Index j = 0; j < m; ++j)
                    for (Index c = 0; c < k; ++c)
                        xd(j, c) = static_cast<double>(x[static_cast<std::size_t>(j * stride + c)]);
                const Scalar sign = extra == 0 ? Scalar(1) : Scalar(-1);
                const Eigen::MatrixXd want = before.template cast<double>() +
                                             static_cast<double>(sign) * (xd.transpose() * xd);
                rank_update_lower<Scalar>(a, x.data(), m, stride, sign);
                double worst = 0;
                bool upper_kept = true;
                for (Index c = 0; c < k; ++c) {
                    for (Index i = 0; i < k; ++i) {
                        if (i < c) {
                            upper_kept = upper_kept && a(i, c) == before(i, c);
                        } else {
                            const double scale = 1.0 + static_cast<double>(m);
                            worst = std::max(
                                worst, std::abs(static_cast<double>(a(i, c)) - want(i, c)) / scale);
                        }
                    }
                }
                check(worst <= tolerance, "rank update: lower triangle = A ± XᵀX");
                check(upper_kept, "rank update: the upper triangle is untouched");
            }
        }
    }
}

/// The one-pass product y + Σ_j f_j(x_jᵀd)·x_j against the same formula in double precision,
/// for k below, at and past a packet and a group of rows, m not a multiple of the group,
/// strides wider than k and X held in a buffer of exactly m rows (the sanitizer build sees
/// any overread); f_j is an affine map of the dot product, as conjugate gradient's.
template <class Scalar>
void check_normal_product(std::mt19937& rng) {
    const double tolerance = std::is_same<Scalar, float>::value ? 1e-5 : 1e-13;
    std::normal_distribution<double> normal(0.0, 1.0);
    for (Index k : {1, 3, 4, 8, 13, 16, 31, 50, 64, 128, 200}) {
        for (Index m : {0, 1, 3, 4, 5, 9, 300}) {
            for (Index extra : {0, 3}) {
                const Index stride = k + extra;
                std::vector<Scalar> x(static_cast<std::size_t>(m * stride));
                for (auto& v : x) v = static_cast<Scalar>(normal(rng));
                Vector<Scalar> d(k), y(k), v(m + 1), b(m + 1);
                for (Index c = 0; c < k; ++c) d(c) = static_cast<Scalar>(normal(rng));
                for (Index c = 0; c < k; ++c) y(c) = static_cast<Scalar>(normal(rng));
                for (Index j = 0; j <= m; ++j) v(j) = static_cast<Scalar>(normal(rng));
                for (Index j = 0; j <= m; ++j) b(j) = static_cast<Scalar>(normal(rng));
                // want, and the size of the terms each entry sums (the rounding's scale)
                Eigen::VectorXd want = y.template cast<double>();
                Eigen::VectorXd size = want.cwiseAbs().array() + 1.0;
                for (Index j = 0; j < m; ++j) {
                    const auto xj = [&](Index c) {
                        return static_cast<double>(x[static_cast<std::size_t>(j * stride + c)]);
                    };
                    double t = 0, t_size = 0;
                    for (Index c = 0; c < k; ++c) t += xj(c) * static_cast<double>(d(c));
                    for (Index c = 0; c < k; ++c)
                        t_size += std::abs(xj(c) * static_cast<double>(d(c)));
                    const double vj = static_cast<double>(v(j));
                    const double w = static_cast<double>(b(j)) - vj * t;
                    const double w_size =
                        std::abs(static_cast<double>(b(j))) + std::abs(vj) * t_size;
                    for (Index c = 0; c < k; ++c) want(c) += w * xj(c);
                    for (Index c = 0; c < k; ++c) size(c) += w_size * std::abs(xj(c));
                }
                normal_product(x.data(), m, k, stride, d.data(), y.data(),
                               [&](Index j, Scalar t) { return b(j) - v(j) * t; });
                const double worst =
                    ((y.template cast<double>() - want).cwiseAbs().array() / size.array())
                        .maxCoeff();
                check(worst <= tolerance, "normal product: y + Σ f_j(x_jᵀd) x_j");
            }
        }
    }
}

}  // namespace

/// The size a memory check is given (RowWorkspace::bytes) is what a workspace really holds,
/// and conjugate gradient's gather buffer holds whole rows up to its fixed bound.
template <class Scalar>
void check_workspace_bytes() {
    for (const Index k : {1, 2, 7, 50, 128, 129, 300}) {
        for (const RowSolver solver :
             {RowSolver::explicit_ratings, RowSolver::implicit_cholesky, RowSolver::implicit_cg}) {
            const RowWorkspace<Scalar> ws(k, solver);
            check(RowWorkspace<Scalar>::bytes(k, solver) == ws.allocated_bytes(),
                  "workspace_bytes is what the workspace allocates");
        }
        for (const Index block : {1, 3, 32, 1000}) {
            const RowWorkspace<Scalar> ws(k, RowSolver::implicit_subspace,
                                          RowWorkspace<Scalar>::unbounded, block);
            check(RowWorkspace<Scalar>::bytes(k, RowSolver::implicit_subspace,
                                              RowWorkspace<Scalar>::unbounded,
                                              block) == ws.allocated_bytes(),
                  "the subspace workspace_bytes is what the workspace allocates");
        }
        // Conjugate gradient keeps whole rows gathered, up to a fixed number of chunks.
        const Index chunk = RowGather<Scalar>::chunk_rows(k);
        const RowWorkspace<Scalar> cg(k, RowSolver::implicit_cg);
        check(cg.gather.capacity() == RowWorkspace<Scalar>::resident_chunks * chunk &&
                  cg.gather.chunk() == chunk,
              "conjugate gradient's gather buffer holds resident_chunks chunks");
        // ... and no more than the longest row needs
        const RowWorkspace<Scalar> short_rows(k, RowSolver::implicit_cg, chunk + 1);
        check(short_rows.gather.capacity() == 2 * chunk &&
                  RowWorkspace<Scalar>::bytes(k, RowSolver::implicit_cg, chunk + 1) ==
                      short_rows.allocated_bytes(),
              "conjugate gradient's gather buffer is bounded by the longest row");
    }
}

int main() {
    check_workspace_bytes<float>();
    check_workspace_bytes<double>();
    std::mt19937 rng(7);
    check_rank_update<float>(rng);
    check_rank_update<double>(rng);
    check_normal_product<float>(rng);
    check_normal_product<double>(rng);
    const Index k = 64;  // ≥ 48: Eigen's blocked kernels (the SIGFPE regression) are used
    Problem p = random_problem(200, 150, rng);
    Matrix<float> left = Matrix<float>::Random(p.rows, k);
    Matrix<float> right = Matrix<float>::Random(p.cols, k);
    MatrixMap<float> l(left.data(), left.rows(), k);
    ConstMatrixMap<float> r(right.data(), right.rows(), k);

    for (Index size : {1, 2, 3, 5, 7, 64, 128, 130, 257}) {  // every tile remainder
        check_interleaved_cholesky<float>(size, rng);
        check_interleaved_cholesky<double>(size, rng);
    }

    validate_csr(p.view(), "");
    std::vector<std::int64_t> t_indptr(p.cols + 1);
    std::vector<std::int32_t> t_indices(p.indices.size());
    std::vector<float> t_values(p.indices.size());
    transpose_csr(p.view(), t_indptr.data(), t_indices.data(), t_values.data(), 2);
    check(t_indptr.back() == static_cast<std::int64_t>(p.indices.size()), "transpose size");

    const double d1 = explicit_half_epoch(p.view(), l, r, 0.1f, 2);
    check(std::isfinite(d1) && left.allFinite(), "explicit half-epoch");
    check(left.row(0).isZero(), "empty row gives zero");
    const SquareMatrix<float> g = gram<float>(r, 0.1f, 2);
    const ConstSquareMap<float> gm(g.data(), k, k);
    for (ImplicitSolver s :
         {ImplicitSolver::cholesky, ImplicitSolver::conjugate_gradient, ImplicitSolver::subspace}) {
        const double d = implicit_half_epoch(p.view(), l, r, gm, s, 3, 2,
                                             static_cast<const float*>(nullptr), 24);
        check(std::isfinite(d) && left.allFinite(), "implicit half-epoch");
    }

    // λ = 0 with fewer observations than factors: the robust fallback, never an abort.
    explicit_half_epoch(p.view(), l, r, 0.0f, 2);
    check(left.allFinite(), "singular systems fall back to a finite solve");

    // A non-finite value makes a row unsolvable: the exception crosses the parallel region.
    Problem bad = p;
    bad.values[1] = std::numeric_limits<float>::infinity();
    expect_throw([&] { explicit_half_epoch(bad.view(), l, r, 0.1f, 2); },
                 "non-finite input is reported from inside the parallel region");
    expect_throw([&] { validate_csr(bad.view(), ""); }, "validation names a non-finite value");
    expect_throw(
        [&] {
            Matrix<float> wrong(p.rows + 1, k);
            explicit_half_epoch(p.view(), MatrixMap<float>(wrong.data(), p.rows + 1, k), r, 0.1f,
                                2);
        },
        "shape mismatch is an exception");

    Matrix<float> folded(p.rows, k);
    MatrixMap<float> f(folded.data(), p.rows, k);
    fold_in_explicit(p.view(), r, 0.1f, f, 2);
    fold_in_implicit(p.view(), r, gm, f, 2);
    check(folded.allFinite(), "fold-in");

    std::vector<std::int32_t> items(static_cast<std::size_t>(p.rows) * 10);
    std::vector<float> scores(items.size());
    TopNRequest<float, std::int64_t> req;
    const auto seen = p.view();
    req.exclude = &seen;
    req.n = 10;
    top_n(ConstMatrixMap<float>(left.data(), p.rows, k), r, req, items.data(), scores.data(), 2);
    check(items[10] >= 0, "top-n fills lists");
    // Skipping tiles by their bound leaves the result as scoring every tile gives it (up to the
    // last bit of a score, which depends on a user's row position in the tile's product).
    // Item norms spread widely, a shared direction, several tiles and user blocks: most tiles
    // are skipped.
    {
        const Index users = 300, n_items = 3000;
        Matrix<float> pu = Matrix<float>::Random(users, k) * 0.5f;
        Matrix<float> qi = Matrix<float>::Random(n_items, k) * 0.3f;
        std::uniform_real_distribution<float> spread(-2.0f, 2.0f);
        for (Index i = 0; i < n_items; ++i) {
            qi.row(i) = (qi.row(i).array() + 1.0f) * std::exp(spread(rng));
        }
        pu.array() += 0.2f;
        std::vector<float> offsets(static_cast<std::size_t>(n_items));
        for (float& o : offsets) o = spread(rng);
        TopNRequest<float, std::int64_t> some;
        some.n = 10;
        some.item_offsets = offsets.data();
        TopNRequest<float, std::int64_t> every = some;
        every.exhaustive = true;
        const std::size_t size = static_cast<std::size_t>(users * some.n);
        std::vector<std::int32_t> got(size), want(size);
        std::vector<float> got_scores(size), want_scores(size);
        const ConstMatrixMap<float> pm(pu.data(), users, k), qm(qi.data(), n_items, k);
        for (bool with_offsets : {false, true}) {
            some.item_offsets = every.item_offsets = with_offsets ? offsets.data() : nullptr;
            top_n(pm, qm, some, got.data(), got_scores.data(), 2);
            top_n(pm, qm, every, want.data(), want_scores.data(), 2);
            std::size_t same = 0;
            bool close = true;
            for (std::size_t j = 0; j < size; ++j) {
                same += got[j] == want[j];
                close = close && std::abs(got_scores[j] - want_scores[j]) <=
                                     1e-5f * (1.0f + std::abs(want_scores[j]));
            }
            check(close && same * 100 >= size * 99, "top-n with skipped tiles = every tile");
        }
    }
    std::vector<std::int32_t> dup{1, 1};
    req.candidates = dup.data();
    req.n_candidates = 2;
    expect_throw(
        [&] {
            top_n(ConstMatrixMap<float>(left.data(), p.rows, k), r, req, items.data(),
                  scores.data(), 2);
        },
        "duplicate candidates are refused");

    std::printf("kernel check: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
